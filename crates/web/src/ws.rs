//! WebSocket event stream: agents get events about themselves and their
//! calls; supervisors everything, or their campaigns' (see [`EventFilter`]). The first message is a snapshot so a
//! reloaded page restores its view.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use switchboard_center::{EngineRequest, LiveEvent};

use crate::webphone::{ServerMessage, Webphone};
use crate::ws_filter::EventFilter;
use crate::{AppState, Caller};

/// `GET /api/ws` (token via cookie, header or `?token=`).
#[utoipa::path(get, path = "/api/ws", tag = "live",
    responses((status = 101, description = "WebSocket: a `snapshot` first, then live events \
        (agents get those about themselves and their calls). Browser audio: the page sends \
        `ClientMessage`s, the server answers with `ServerMessage`s", body = LiveEvent),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn upgrade(State(st): State<AppState>, c: Caller, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| stream(st, c, socket))
}

async fn stream(st: AppState, c: Caller, mut socket: WebSocket) {
    let mut rx = (st.events)();
    let mut scope_rx = st.scope_changes.subscribe();
    let mut gw_rx = st.webphone.as_ref().map(|g| g.subscribe());
    let mut phone = Webphone::default();
    let user = c.agent.username.clone();
    let mut c = c;
    let mut filter = EventFilter::new(&c);
    let _ = send_snapshot(&st, &mut filter, &mut socket).await;
    loop {
        let gw_event = async {
            match gw_rx.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = gw_event => match ev {
                Ok(ev) => {
                    if let Some(out) = phone.on_gateway(&st, &user, ev).await {
                        if send(&mut socket, &out).await.is_err() {
                            break;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => gw_rx = None,
            },
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    let Some(ev) = filter.event(ev) else { continue };
                    if socket.send(Message::Text(ev.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => break,
            },
            changed = scope_rx.recv() => {
                use tokio::sync::broadcast::error::RecvError;
                // This supervisor's campaigns changed (or we missed some
                // changes): the wall follows at once, with a fresh snapshot
                // in the new scope.
                let refresh = match changed {
                    Ok(who) => who == user,
                    Err(RecvError::Lagged(_)) => c.is_supervisor(),
                    // Impossible: `st` holds a sender.
                    Err(RecvError::Closed) => false,
                };
                if refresh {
                    match crate::auth::campaign_scope(&st.storage, &c.agent).await {
                        Ok(campaigns) => {
                            c.campaigns = campaigns;
                            filter = EventFilter::new(&c);
                            if send_snapshot(&st, &mut filter, &mut socket).await.is_err() {
                                break;
                            }
                        }
                        Err(e) => tracing::warn!(%e, supervisor = %user, "re-reading the supervisor's campaigns"),
                    }
                }
            }
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(Message::Text(t))) => {
                    for out in phone.on_message(&st, &user, t.as_str()).await {
                        if send(&mut socket, &out).await.is_err() {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // The page is gone: so is its audio session.
    if let Some(gw) = st.webphone.clone() {
        phone
            .close(&st, &gw, &user, "the console disconnected")
            .await;
    }
}

/// Send the snapshot as `filter` lets this user see it.
async fn send_snapshot(
    st: &AppState,
    filter: &mut EventFilter,
    socket: &mut WebSocket,
) -> Result<(), axum::Error> {
    let Ok(snap) = st.ask(EngineRequest::Snapshot).await else {
        return Ok(());
    };
    let msg = LiveEvent::Snapshot {
        snapshot: Box::new(filter.snapshot(snap)),
    };
    socket
        .send(Message::Text(msg.to_json().to_string().into()))
        .await
}

/// Send a typed message to the page.
async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}
