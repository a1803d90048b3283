//! Phones behind a NAT (home agents): the registrar answers and calls them
//! at the address their REGISTER came from (never the private Contact),
//! caps their registration lifetime, and every `nat_keepalive_secs` sends
//! each UDP one an OPTIONS so the NAT's mapping stays open and an incoming
//! call still reaches it after the mapping's idle timeout. One scan of the
//! bindings per interval (not per tick); the pings' answers and timeouts
//! need no handling (a phone that does not answer keeps its binding until
//! it expires).

use switchboard_sip::builder::{new_branch, new_call_id, new_tag};
use switchboard_sip::{Dialog, NameAddr, Peer, Request, Uri};

use crate::Switch;

impl Switch {
    /// Ping every phone behind a NAT when the interval is up.
    pub(crate) fn nat_keepalive_tick(&mut self) {
        let now = self.now;
        if self.nat_keepalive_at == 0 || now < self.nat_keepalive_at {
            return;
        }
        self.nat_keepalive_at = now + self.cfg.nat_keepalive_secs * 1000;
        for (user, contact, peer) in self.registrar.nat_peers(now) {
            let to = NameAddr::new(Uri::sip(Some(&user), &contact.host, contact.port));
            let req = self.options_request(to, contact, peer);
            tracing::trace!(user, to = %peer.addr, "NAT keep-alive");
            self.tl.send_request(req, peer, now);
        }
    }

    /// An out-of-dialog OPTIONS from us to `target` (`to` in To), sent to
    /// `peer`: the keep-alive of a phone behind a NAT, the health check of
    /// a trunk address.
    pub(crate) fn options_request(&self, to: NameAddr, target: Uri, peer: Peer) -> Request {
        let ours = NameAddr::new(Uri::sip(
            Some("switchboard"),
            &self.cfg.public_ip().to_string(),
            Some(self.cfg.sip_port),
        ));
        let via = self.via_host_for(peer.transport);
        Dialog::uac(new_call_id(), new_tag(), ours, to, target, peer).request(
            "OPTIONS",
            &via,
            "",
            &new_branch(),
        )
    }
}
