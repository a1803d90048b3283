//! Registration and digest authentication of phones (REGISTER, and the
//! proxy challenge of their INVITEs).

use switchboard_sip::builder::{new_tag, response_to};
use switchboard_sip::{NameAddr, Peer, Request};

use super::registrar::Auth;
use super::Switch;

impl Switch {
    fn challenge(&mut self, req: &Request, from: Peer, proxy: bool, stale: bool) {
        let (status, reason, header) = if proxy {
            (407, "Proxy Authentication Required", "Proxy-Authenticate")
        } else {
            (401, "Unauthorized", "WWW-Authenticate")
        };
        let mut r = response_to(req, status, reason, Some(&new_tag()));
        for c in self.registrar.digest.challenges(self.now / 1000, stale) {
            r.headers.push(header, c);
        }
        self.tl.respond(r, from, self.now);
    }

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
        let agents = &self.agents;
        match self
            .registrar
            .authenticate(req, &from, header, self.now, |u| agents.sip_password(u))
        {
            Auth::Ok(u) => Some(u),
            Auth::Challenge(stale) => {
                self.challenge(req, from, proxy, stale);
                None
            }
            Auth::Forbidden => {
                tracing::info!(from = %from.addr, "wrong SIP credentials");
                self.respond(req, from, 403, "Forbidden", Some(&new_tag()));
                None
            }
            Auth::RateLimited => {
                self.respond(req, from, 403, "Too Many Failed Attempts", Some(&new_tag()));
                None
            }
        }
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
        match self.registrar.register(&user, &req, from, self.now) {
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
