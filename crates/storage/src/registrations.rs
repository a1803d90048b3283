//! SIP registrar bindings, persisted so phones stay reachable across a
//! restart (the registrar itself keeps them in memory).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::decode_all;
use crate::{col, Result, Storage};

/// One stored binding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRow {
    /// Agent username (extension).
    pub username: String,
    /// Contact URI the phone registered.
    pub contact: String,
    /// Source address of the REGISTER (`ip:port`), where requests are sent.
    pub peer_addr: String,
    /// `UDP` or `TCP`.
    pub transport: String,
    /// Expiry, unix ms.
    pub expires_at: i64,
}

fn decode(row: &AnyRow) -> Result<RegistrationRow> {
    Ok(RegistrationRow {
        username: col(row, "username")?,
        contact: col(row, "contact")?,
        peer_addr: col(row, "peer_addr")?,
        transport: col(row, "transport")?,
        expires_at: col(row, "expires_at")?,
    })
}

impl Storage {
    /// Replace every binding of `username` by `bindings` (the registrar's view after a REGISTER).
    pub async fn save_registrations(
        &self,
        username: &str,
        bindings: &[RegistrationRow],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM registrations WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        for b in bindings {
            sqlx::query("INSERT INTO registrations (username, contact, peer_addr, transport, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&b.username)
                .bind(&b.contact)
                .bind(&b.peer_addr)
                .bind(&b.transport)
                .bind(b.expires_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Bindings not expired at `now`.
    pub async fn live_registrations(&self, now: i64) -> Result<Vec<RegistrationRow>> {
        let rows = sqlx::query("SELECT username, contact, peer_addr, transport, expires_at FROM registrations WHERE expires_at > $1 ORDER BY username, expires_at")
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        decode_all(&rows, decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bindings_replace_and_expire() {
        let s = crate::tests::test_db().await;
        let b = |c: &str, exp: i64| RegistrationRow {
            username: "1001".into(),
            contact: c.into(),
            peer_addr: "127.0.0.1:5070".into(),
            transport: "UDP".into(),
            expires_at: exp,
        };
        s.save_registrations("1001", &[b("sip:1001@a", 100), b("sip:1001@b", 300)])
            .await
            .unwrap();
        assert_eq!(s.live_registrations(0).await.unwrap().len(), 2);
        assert_eq!(s.live_registrations(200).await.unwrap().len(), 1);
        s.save_registrations("1001", &[b("sip:1001@c", 500)])
            .await
            .unwrap();
        let live = s.live_registrations(0).await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].contact, "sip:1001@c");
        s.save_registrations("1001", &[]).await.unwrap();
        assert!(s.live_registrations(0).await.unwrap().is_empty());
    }
}
