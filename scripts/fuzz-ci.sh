#!/usr/bin/env bash
# The fuzzing step of CI (issue 11). Two parts:
#
# 1. Stable toolchain: every fuzz target's function runs over its seed
#    corpus (fuzz/seeds/TARGET/) and its saved crashes (fuzz/regressions/),
#    as `cargo test` of the fuzz crate (which is outside the workspace, so
#    `cargo test --workspace` does not run it).
# 2. Nightly toolchain with cargo-fuzz (libFuzzer): every target is built
#    and fuzzed for FUZZ_SECONDS (default 15) from its seeds; a crash
#    leaves its input under fuzz/artifacts/TARGET/ and fails the step unless
#    fuzz/known-crashes.txt lists it (a reported bug not fixed yet). The
#    number of executions of each target is printed. Without a nightly toolchain
#    this part prints "skipped: no nightly toolchain" and succeeds (CI
#    machines may lack nightly); cargo-fuzz is installed when missing.
#
# Usage: scripts/fuzz-ci.sh [TARGET...]   (default: every target)
# Environment: FUZZ_SECONDS (per target), FUZZ_SKIP_STABLE=1 (only part 2).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}

if [ "${FUZZ_SKIP_STABLE:-0}" != 1 ]; then
    echo "fuzz: seeds through every target (stable)"
    cargo test --manifest-path fuzz/Cargo.toml --no-default-features
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped: no nightly toolchain (cargo +nightly not available)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz: skipped: cargo-fuzz is not installed and could not be installed"
        exit 0
    fi
fi

cd fuzz
# Safe Rust only: no sanitizer (faster builds and runs); panics, overflow
# checks (debug assertions are on) and timeouts are what is looked for.
build=(--sanitizer none)
cargo +nightly fuzz build "${build[@]}"
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Is this crash (its reproduction output in $2) listed for target $1 in
# known-crashes.txt?
known() {
    local t=$1 out=$2 target pattern
    while IFS=$'\t' read -r target pattern; do
        case $target in '#'* | '') continue ;; esac
        if [ "$target" = "$t" ] && [ -n "$pattern" ] && grep -qF -- "$pattern" <<<"$out"; then
            return 0
        fi
    done <known-crashes.txt
    return 1
}

mkdir -p logs
failed=()
total=0
stamp=$(mktemp)
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    touch "$stamp"
    # Fork mode with -ignore_crashes: a known crash does not end the run,
    # every crash is kept under artifacts/ and classified below.
    cargo +nightly fuzz run "${build[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -fork=1 -ignore_crashes=1 -print_final_stats=1 >"$log" 2>&1 || true
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    execs=${execs:-0}
    total=$((total + execs))
    status=ok
    new_known=0
    while IFS= read -r -d '' a; do
        out=$(cargo +nightly fuzz run "${build[@]}" "$t" "$a" 2>&1 || true)
        if known "$t" "$out"; then
            new_known=$((new_known + 1))
        else
            status=CRASH
            echo "fuzz: $t: new crash $a"
            grep -A3 -E "panicked at|ERROR: libFuzzer" <<<"$out" | head -n 12 || true
        fi
    done < <(find "artifacts/$t" -type f -newer "$stamp" -print0)
    if ! grep -qE '^#[0-9]+' "$log"; then
        status=ERROR
        tail -n 30 "$log"
    fi
    [ "$status" = ok ] || failed+=("$t")
    printf 'fuzz: %-12s %-5s %10s executions in %ss (%s known crash inputs)\n' \
        "$t" "$status" "$execs" "$seconds" "$new_known"
done
rm -f "$stamp"
echo "fuzz: ${#targets[@]} targets, $total executions, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: new crashes in: ${failed[*]} (inputs under fuzz/artifacts/; logs under fuzz/logs/)"
    exit 1
fi
