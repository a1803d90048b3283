//! A console WebSocket client (tungstenite, blocking) that records every
//! text message the server pushes, for tests that check what consoles see.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Records the messages of `/api/ws` on a thread until [`WsWatch::stop`].
pub struct WsWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<String>>,
}

impl WsWatch {
    /// Connect to the server's console WebSocket with a session token; the
    /// first message (the snapshot) has arrived when this returns.
    pub fn start(http_port: u16, token: &str) -> WsWatch {
        let stream = TcpStream::connect(("127.0.0.1", http_port)).expect("connect to the console");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let url = format!("ws://127.0.0.1:{http_port}/api/ws?token={token}");
        let (mut ws, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket upgrade");
        let first = ws.read().expect("the snapshot");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = vec![first.to_string()];
            while !flag.load(Ordering::Relaxed) {
                match ws.read() {
                    Ok(tungstenite::Message::Text(t)) => seen.push(t.to_string()),
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e))
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => {
                        seen.push(format!("<closed: {e}>"));
                        break;
                    }
                }
            }
            seen
        });
        WsWatch { stop, thread }
    }

    /// Stop and return every text message received, in order.
    pub fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("WebSocket reader")
    }
}
