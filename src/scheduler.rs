//! Time-driven work: global callbacks (agenda entries of dialer campaigns)
//! are claimed atomically when due and placed by the dialer, so each fires
//! once, on time, or right after a restart that spanned its time.

use std::time::Duration;

use switchboard_center::EngineRequest;
use switchboard_storage::Storage;
use tokio::sync::{mpsc, oneshot};

/// Poll for due callbacks every second.
pub async fn run(storage: Storage, engine: mpsc::Sender<EngineRequest>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let due = match storage
            .claim_due_global(switchboard_storage::now_ms(), 20)
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(%e, "claiming due callbacks");
                continue;
            }
        };
        for entry in due {
            let campaign = match &entry.campaign_id {
                Some(id) => storage
                    .get_campaign(id)
                    .await
                    .ok()
                    .flatten()
                    .map(|c| c.name),
                None => None,
            };
            let Some(campaign) = campaign else {
                tracing::warn!(id = entry.id, "global callback without campaign");
                continue;
            };
            let (tx, rx) = oneshot::channel();
            let req = EngineRequest::DialerCall {
                campaign,
                number: entry.phone.clone(),
                contact_id: entry.contact_id.clone(),
                reply: tx,
            };
            if engine.send(req).await.is_err() {
                return;
            }
            match rx.await {
                Ok(Ok(v)) => {
                    let call = v["call_id"].as_str().map(str::to_string);
                    tracing::info!(id = entry.id, ?call, "global callback placed");
                    let _ = storage.mark_agenda_done(&entry.id, call.as_deref()).await;
                }
                Ok(Err(e)) => tracing::error!(id = entry.id, e.message, "global callback failed"),
                Err(_) => return,
            }
        }
    }
}
