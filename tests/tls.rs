//! SIP over TLS with a real phone: baresip registers over TLS (trusting a
//! test CA), calls an agent registered over UDP, audio both ways; the call's
//! signalling to the TLS phone stays on TLS (Via and Contact name TLS and
//! the TLS port). The certificate is replaced on disk while the server
//! runs: the next TLS connection gets the new one; a broken file keeps the
//! previous certificate.

mod common;

use common::certs::certificates;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// The subject CN the server presents on a new TLS connection.
fn presented_cn(port: u16, ca: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo | openssl s_client -connect 127.0.0.1:{port} -CAfile {} -verify_return_error 2>/dev/null | openssl x509 -noout -subject",
            ca.display()
        ))
        .output()
        .expect("openssl s_client");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_phone_over_tls_calls_an_agent_with_audio_and_the_certificate_reloads() {
    require_tool("openssl");
    let _g = serial();
    let dir = TestDir::new("tls");
    certificates(dir.path(), "first");
    let tls_port = free_port();
    let mut opts = ServerOpts::new().with_agents(&["1001", "1002"]);
    opts.extra_server = format!(
        "tls_addr = \"127.0.0.1:{tls_port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    );
    let s = Server::start(&dir, opts);
    let ca = dir.join("ca.pem");
    assert!(presented_cn(tls_port, &ca).contains("CN = first"));

    let mut o = BaresipOpts::new("1001")
        .register(tls_port, "secret1001")
        .tone(440.0)
        .auto_answer(true);
    o.transport = Some("tls".into());
    o.extra_config = format!("sip_cafile\t{}\n", ca.display());
    let a = Baresip::with_opts(dir.path(), o);
    a.wait_registered(T);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);

    a.dial(&format!("sip:1002@127.0.0.1:{tls_port};transport=tls"));
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "TLS phone 1001");
    assert_hears(&b.received_wav(), 440.0, 3.0, "UDP phone 1002");
    // The BYE from the server reached the TLS phone over TLS, with our TLS
    // port and transport in Via and Contact.
    let log = a.log();
    assert!(
        log.contains(&format!("SIP/2.0/TLS 127.0.0.1:{tls_port}")),
        "Via names TLS and the TLS port\n{}",
        a.log_tail(80)
    );
    assert!(
        log.contains(";transport=tls>"),
        "Contact asks for TLS\n{}",
        a.log_tail(80)
    );

    // A renewed certificate is served without a restart.
    std::thread::sleep(Duration::from_millis(1100));
    certificates(dir.path(), "second");
    let cn = wait_until(T, Duration::from_millis(300), || {
        let cn = presented_cn(tls_port, &ca);
        cn.contains("CN = second").then_some(cn)
    });
    assert!(cn.is_some(), "the new certificate is presented");

    // A bad certificate file keeps the good one.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(dir.join("server.pem"), "not a certificate").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert!(presented_cn(tls_port, &ca).contains("CN = second"));
    let mut s = s;
    s.assert_alive("after a broken certificate file");
}
