//! Startup recovery: what a previous run left open when it stopped without
//! ending its calls (`kill -9`, a crash, power loss, a stop with calls up)
//! is closed before the engine starts.
//!
//! 1. Each recording segment still open has its WAV repaired
//!    ([`crate::wav_repair`]: RIFF/data sizes from the file length, so every
//!    sample on disk is readable) and its row closed with the length of that
//!    audio, ending at `started_at + length`.
//! 2. The moment the server stopped is estimated as the latest activity the
//!    database holds ([`Storage::last_activity`]) or the end of the audio of
//!    those recordings, whichever is later: open calls end there with reason
//!    `interrupted` (talk time is not inflated by the downtime), and agents
//!    who were not offline are logged `offline` there. Every agent comes back
//!    offline: the server cannot know who is still at their desk, so no
//!    queue call is offered until the agent chooses ready again (console
//!    sessions and phone registrations survive the restart).
//! 3. Global callbacks claimed but not marked placed are settled
//!    ([`Storage::recover_claimed_callbacks`]): neither lost nor fired twice.

use std::path::Path;

use anyhow::Context;
use switchboard_storage::Storage;

/// What recovery did, for the log line and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Recording segments closed.
    pub recordings: usize,
    /// Of which the WAV header had to be fixed.
    pub repaired: usize,
    /// Of which the file was missing or unreadable (closed as empty).
    pub unreadable: usize,
    /// Calls closed as interrupted.
    pub calls: usize,
    /// Agents logged offline.
    pub agents: usize,
    /// Claimed callbacks found placed (now done).
    pub callbacks_placed: usize,
    /// Claimed callbacks made due again.
    pub callbacks_requeued: usize,
}

/// Close what the previous run left open (see the module doc). Run before
/// the engine, the storage writer and the scheduler start.
pub async fn recover(storage: &Storage) -> anyhow::Result<Recovered> {
    let mut out = Recovered::default();
    let mut stopped_at = storage
        .last_activity()
        .await
        .context("reading the last activity")?;
    let open = storage.open_recordings().await?;
    let mut closes = Vec::with_capacity(open.len());
    for rec in open {
        let path = rec.path.clone();
        let audio =
            tokio::task::spawn_blocking(move || crate::wav_repair::repair(Path::new(&path)))
                .await
                .context("repairing a recording")?;
        let duration_ms = match audio {
            Ok(a) => {
                if a.repaired {
                    out.repaired += 1;
                    tracing::info!(
                        recording = rec.id,
                        path = rec.path,
                        duration_ms = a.duration_ms,
                        "recording header repaired after an interrupted run"
                    );
                }
                a.duration_ms as i64
            }
            Err(e) => {
                out.unreadable += 1;
                tracing::warn!(recording = rec.id, path = rec.path, %e, "recording left open is unreadable: closed as empty");
                0
            }
        };
        let end = rec.started_at + duration_ms;
        stopped_at = stopped_at.max(Some(end));
        closes.push((rec.id, end, duration_ms));
    }
    for (id, end, duration_ms) in closes {
        if storage.close_open_recording(&id, end, duration_ms).await? {
            out.recordings += 1;
        }
    }
    let at = stopped_at.unwrap_or_else(switchboard_storage::now_ms);
    let closed = storage.close_interrupted(at).await?;
    out.calls = closed.calls.len();
    out.agents = closed.agents.len();
    let callbacks = storage.recover_claimed_callbacks().await?;
    out.callbacks_placed = callbacks.placed.len();
    out.callbacks_requeued = callbacks.requeued.len();
    if out.recordings + out.calls + out.callbacks_placed + out.callbacks_requeued > 0 {
        tracing::warn!(
            stopped_at = at,
            calls = out.calls,
            recordings = out.recordings,
            repaired = out.repaired,
            unreadable = out.unreadable,
            agents_offline = out.agents,
            callbacks_placed = out.callbacks_placed,
            callbacks_due_again = out.callbacks_requeued,
            "the previous run stopped with calls or recordings active: closed as interrupted"
        );
    } else if out.agents > 0 {
        tracing::info!(
            agents_offline = out.agents,
            "agents come back offline after the restart"
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_storage::{AgentRole, CallDirection, NewAgent, NewCall, NewRecording, SipHa1};

    /// A stereo 8 kHz WAV of `secs` seconds whose header counts none of it,
    /// as a recorder killed before its first header update leaves it.
    fn crashed_wav(path: &Path, secs: u32) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..secs * 8000 * 2 {
            w.write_sample((i % 1000) as i16).unwrap();
        }
        w.finalize().unwrap();
        let mut b = std::fs::read(path).unwrap();
        b[4..8].copy_from_slice(&36u32.to_le_bytes());
        b[40..44].copy_from_slice(&0u32.to_le_bytes());
        std::fs::write(path, b).unwrap();
    }

    #[tokio::test]
    async fn an_interrupted_run_is_closed_once() {
        let dir = std::env::temp_dir().join(format!("sb-recovery-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Storage::connect(&format!("sqlite://{}/r.db", dir.display()))
            .await
            .unwrap();
        let agent = db
            .create_agent(&NewAgent {
                username: "1001".into(),
                display_name: "A".into(),
                password_hash: "x".into(),
                sip_ha1: SipHa1 {
                    realm: "r".into(),
                    md5: "m".into(),
                    sha256: "s".into(),
                },
                role: AgentRole::Agent,
                groups: vec![],
                audio: Default::default(),
            })
            .await
            .unwrap();
        let t0 = 1_796_126_400_000;
        let call = db
            .insert_call(&NewCall {
                id: Some("c1".into()),
                direction: CallDirection::Inbound,
                campaign_id: None,
                contact_id: None,
                caller: "555".into(),
                callee: "5000".into(),
                agent_id: Some(agent.id.clone()),
                started_at: t0,
            })
            .await
            .unwrap();
        db.update_call_answered(&call.id, t0 + 1_000).await.unwrap();
        db.add_agent_state(&agent.id, "on_call", None, t0 + 1_000)
            .await
            .unwrap();
        let wav = dir.join("c1-1.wav");
        crashed_wav(&wav, 4);
        let rec = db
            .insert_recording(&NewRecording {
                call_id: call.id.clone(),
                path: wav.display().to_string(),
                started_at: t0 + 1_000,
                agent_id: None,
                campaign_id: None,
            })
            .await
            .unwrap();

        let got = recover(&db).await.unwrap();
        assert_eq!(
            got,
            Recovered {
                recordings: 1,
                repaired: 1,
                unreadable: 0,
                calls: 1,
                agents: 1,
                callbacks_placed: 0,
                callbacks_requeued: 0,
            }
        );
        // The file reads in full; the row has its length; the call ends with the audio.
        let r = hound::WavReader::open(&wav).unwrap();
        assert_eq!(r.duration(), 32_000);
        let rec = db.get_recording(&rec.id).await.unwrap().unwrap();
        assert_eq!(
            (rec.duration_ms, rec.ended_at),
            (Some(4_000), Some(t0 + 5_000))
        );
        let call = db.get_call("c1").await.unwrap().unwrap();
        assert_eq!(call.end_reason.as_deref(), Some("interrupted"));
        assert_eq!(call.ended_at, Some(t0 + 5_000));
        let last = db
            .last_agent_state(&agent.id, i64::MAX)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((last.state.as_str(), last.at), ("offline", t0 + 5_000));
        // A second start finds nothing left open.
        assert_eq!(recover(&db).await.unwrap(), Recovered::default());
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
