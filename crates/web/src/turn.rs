//! TURN for browser audio: agents whose network blocks UDP to the server
//! (or any direct path) reach it through a TURN relay such as coturn. The
//! server stays ICE-lite; only the page needs the relay, so the server
//! hands each agent short-lived TURN credentials (the "TURN REST API"
//! scheme coturn implements with `use-auth-secret`: username
//! `<expiry>:<agent>`, password base64(HMAC-SHA1(secret, username))) and
//! the page gives them to its `RTCPeerConnection`. The shared secret never
//! leaves the server.

use axum::extract::State;
use axum::Json;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha1::Sha1;
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::{AppState, Caller, HttpError};

/// The relay settings (`[server] turn_urls`, `turn_secret`, `turn_ttl_secs`,
/// `turn_relay_only`).
#[derive(Clone)]
pub struct TurnConfig {
    /// `turn:` / `turns:` URLs of the relay.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// How long a handed-out credential stays valid.
    pub ttl_secs: u64,
    /// Make browsers send media only through the relay.
    pub relay_only: bool,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("ttl_secs", &self.ttl_secs)
            .field("relay_only", &self.relay_only)
            .finish_non_exhaustive()
    }
}

/// One ICE server as `RTCPeerConnection` takes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct IceServer {
    /// `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// `<expiry unix seconds>:<agent>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
}

/// What the page configures its browser audio connection with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct IceConfig {
    /// Relays to use (empty: none configured, direct UDP only).
    pub ice_servers: Vec<IceServer>,
    /// `all` or `relay` (media only through the relay).
    pub ice_transport_policy: String,
}

impl TurnConfig {
    /// Credentials for `agent`, valid until `now_unix + ttl_secs`.
    pub fn credentials(&self, agent: &str, now_unix: u64) -> IceServer {
        let username = format!("{}:{agent}", now_unix.saturating_add(self.ttl_secs));
        let mut mac = Hmac::<Sha1>::new_from_slice(self.secret.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(username.as_bytes());
        let credential =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        IceServer {
            urls: self.urls.clone(),
            username,
            credential,
        }
    }
}

/// `GET /api/webphone/ice`.
#[utoipa::path(get, path = "/api/webphone/ice", tag = "live",
    responses((status = 200, description = "ICE servers (TURN relay with fresh credentials) for the page's browser audio", body = IceConfig),
        (status = 404, description = "Browser audio is not enabled on this server", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub async fn ice(State(st): State<AppState>, c: Caller) -> Result<Json<IceConfig>, HttpError> {
    if st.webphone.is_none() {
        return Err(HttpError::new(
            404,
            "browser audio is not enabled on this server",
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(Json(match &st.turn {
        Some(t) => IceConfig {
            ice_servers: vec![t.credentials(&c.agent.username, now)],
            ice_transport_policy: if t.relay_only { "relay" } else { "all" }.into(),
        },
        None => IceConfig {
            ice_servers: Vec::new(),
            ice_transport_policy: "all".into(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_api() {
        let t = TurnConfig {
            urls: vec!["turn:turn.example.com:3478".into()],
            secret: "north".into(),
            ttl_secs: 3600,
            relay_only: false,
        };
        let c = t.credentials("1001", 1_700_000_000);
        assert_eq!(c.username, "1700003600:1001");
        // echo -n 1700003600:1001 | openssl dgst -sha1 -hmac north -binary | base64
        assert_eq!(c.credential, "6BMwxCcQmem9j2CqchAoA72tQPE=");
        assert!(
            !format!("{t:?}").contains("north"),
            "the secret is not printed"
        );
    }
}
