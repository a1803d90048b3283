//! Registration and digest authentication of phones (REGISTER, and the
//! proxy challenge of their INVITEs).

use switchboard_sip::builder::{new_tag, response_to};
use switchboard_sip::digest::{AuthOutcome, Challenged, DigestServer};
use switchboard_sip::{NameAddr, Peer, Request};

use super::Switch;

/// Outcome of authenticating a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// Send a challenge (with `stale=true` when set).
    Challenge { stale: bool },
    /// Refused: 403, the same answer for a wrong password, an unknown user,
    /// a locked user and a digest for another Request-URI (a failure that
    /// bans the source gets it too; its next requests get nothing).
    Forbidden,
}

impl Switch {
    fn challenge(&mut self, req: &Request, from: Peer, proxy: bool, stale: bool) {
        let (status, reason, header) = if proxy {
            (407, "Proxy Authentication Required", "Proxy-Authenticate")
        } else {
            (401, "Unauthorized", "WWW-Authenticate")
        };
        let mut r = response_to(req, status, reason, Some(&new_tag()));
        for c in self.registrar.digest.challenges(self.now, stale) {
            r.headers.push(header, c);
        }
        self.tl.respond(r, from, self.now);
    }

    /// Authenticate a phone's request (REGISTER with `Authorization`, INVITE
    /// with `Proxy-Authorization`): the user, or `None` once answered. Known
    /// and unknown extensions get the same answers, so a scanner learns nothing.
    pub(super) fn authenticate(
        &mut self,
        req: &Request,
        from: Peer,
        proxy: bool,
    ) -> Option<String> {
        let header = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let outcome = match self.check_credentials(req, from, header) {
            Ok(user) => return Some(user),
            Err(o) => o,
        };
        match outcome {
            Auth::Challenge { stale } => self.challenge(req, from, proxy, stale),
            Auth::Forbidden => self.respond(req, from, 403, "Forbidden", Some(&new_tag())),
        }
        None
    }

    fn check_credentials(
        &mut self,
        req: &Request,
        from: Peer,
        header: &str,
    ) -> Result<String, Auth> {
        let value = req.header(header).ok_or(Auth::Challenge { stale: false })?;
        let user = DigestServer::username(value).ok_or(Auth::Challenge { stale: false })?;
        let now = self.now;
        if self.abuse.user_locked(&user, now) {
            tracing::info!(from = %from.addr, user, "SIP credentials of a locked user refused");
            return Err(self.auth_failed(from, &user));
        }
        let (agents, realm) = (&self.agents, self.cfg.realm.as_str());
        let challenged = Challenged {
            method: &req.method,
            uri: &req.uri,
        };
        let outcome = self
            .registrar
            .digest
            .verify(value, challenged, now, |u, alg| {
                agents.sip_ha1(u, realm, alg)
            });
        match outcome {
            AuthOutcome::Ok => Ok(user),
            AuthOutcome::Missing => Err(Auth::Challenge { stale: false }),
            AuthOutcome::Stale => Err(Auth::Challenge { stale: true }),
            AuthOutcome::Replayed => {
                tracing::info!(from = %from.addr, user, "replayed digest nonce count: challenging again");
                Err(Auth::Challenge { stale: true })
            }
            AuthOutcome::Wrong => {
                tracing::info!(from = %from.addr, user, "wrong SIP credentials");
                Err(self.auth_failed(from, &user))
            }
            AuthOutcome::UriMismatch => {
                tracing::warn!(from = %from.addr, user, uri = %req.uri, "digest answer for another Request-URI");
                Err(self.auth_failed(from, &user))
            }
        }
    }

    fn auth_failed(&mut self, from: Peer, user: &str) -> Auth {
        self.abuse.auth_failed(from.addr, user, self.now);
        Auth::Forbidden
    }

    pub(super) fn on_register(&mut self, req: Request, from: Peer) {
        let Some(user) = self.authenticate(&req, from, false) else {
            return;
        };
        let to_user = req
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.uri.user);
        if to_user.as_deref() != Some(user.as_str()) {
            self.respond(
                &req,
                from,
                403,
                "Authenticated user does not match To",
                Some(&new_tag()),
            );
            return;
        }
        let cap = self.cfg.nat_max_expires_secs;
        match self.registrar.register(&user, &req, from, self.now, cap) {
            Ok(bindings) => {
                let mut r = response_to(&req, 200, "OK", Some(&new_tag()));
                for (uri, exp) in &bindings {
                    r.headers.push("Contact", format!("<{uri}>;expires={exp}"));
                }
                r.headers.push("Date", httpdate(self.now));
                self.tl.respond(r, from, self.now);
                self.agents_registration_changed(&user, !bindings.is_empty());
                let rows = self
                    .registrar
                    .bindings_of(&user)
                    .into_iter()
                    .map(|b| crate::RegistrationRecord {
                        username: user.clone(),
                        contact: b.contact.to_string(),
                        peer_addr: b.peer.addr.to_string(),
                        transport: b.peer.transport.as_str().to_string(),
                        expires_at: b.expires_at as i64,
                    })
                    .collect();
                self.sink.store(crate::StoreOp::Registrations {
                    username: user.clone(),
                    rows,
                });
            }
            Err((status, reason)) => self.respond(&req, from, status, &reason, Some(&new_tag())),
        }
    }
}

fn httpdate(now_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms as i64)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}
