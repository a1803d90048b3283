//! The media quality kept in a call's CDR: the final figures of its
//! customer's and agent's legs (migration 0007). Fractions are stored as
//! integers (hundredths of a percent, microseconds, MOS x 100) so the same
//! columns work on SQLite and PostgreSQL.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::util::Sql;
use crate::{col, Result, Storage};

/// One side's final media quality.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct SideQuality {
    /// RTP packets received from that party.
    pub packets_received: i64,
    /// Its packets that never came.
    pub packets_lost: i64,
    /// Lost share of its packets, percent (two decimals).
    pub loss_percent: f64,
    /// Interarrival jitter of its packets, ms (three decimals).
    pub jitter_ms: f64,
    /// Estimated MOS (two decimals); None when no packet came.
    pub mos: Option<f64>,
}

/// Both sides of a call; a side is None when it had no media (or the call
/// ended before quality was recorded).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct CallQualityRow {
    /// The customer's (served party's) leg.
    pub customer: Option<SideQuality>,
    /// The agent's leg (the last agent's after a transfer).
    pub agent: Option<SideQuality>,
}

/// `v * scale` as a stored integer (0 for NaN or an infinity).
fn scaled(v: f64, scale: f64) -> i64 {
    let v = (v * scale).round();
    if v.is_finite() {
        v as i64
    } else {
        0
    }
}

fn decode_side(row: &AnyRow, side: &str) -> Result<Option<SideQuality>> {
    let Some(packets_received) = col::<Option<i64>>(row, &format!("{side}_packets_received"))?
    else {
        return Ok(None);
    };
    let int = |name: &str| col::<Option<i64>>(row, &format!("{side}_{name}"));
    Ok(Some(SideQuality {
        packets_received,
        packets_lost: int("packets_lost")?.unwrap_or(0),
        loss_percent: int("loss_x100")?.unwrap_or(0) as f64 / 100.0,
        jitter_ms: int("jitter_us")?.unwrap_or(0) as f64 / 1000.0,
        mos: int("mos_x100")?.map(|m| m as f64 / 100.0),
    }))
}

/// The quality columns of a call row.
pub(crate) fn decode(row: &AnyRow) -> Result<CallQualityRow> {
    Ok(CallQualityRow {
        customer: decode_side(row, "customer")?,
        agent: decode_side(row, "agent")?,
    })
}

impl Storage {
    /// Records a call's final media quality (sides given as None are left
    /// as they are). An unknown call gives [`crate::StorageError::NotFound`].
    pub async fn set_call_quality(&self, id: &str, q: &CallQualityRow) -> Result<()> {
        let mut sql = Sql::new("UPDATE calls SET ");
        let mut sets = Vec::new();
        for (side, v) in [("customer", q.customer), ("agent", q.agent)] {
            let Some(v) = v else { continue };
            let cols = [
                ("packets_received", Some(v.packets_received)),
                ("packets_lost", Some(v.packets_lost)),
                ("loss_x100", Some(scaled(v.loss_percent, 100.0))),
                ("jitter_us", Some(scaled(v.jitter_ms, 1000.0))),
                ("mos_x100", v.mos.map(|m| scaled(m, 100.0))),
            ];
            for (name, value) in cols {
                let p = sql.arg(value);
                sets.push(format!("{side}_{name} = {p}"));
            }
        }
        if sets.is_empty() {
            return Ok(());
        }
        let p = sql.arg(id);
        sql.push(&format!("{} WHERE id = {p}", sets.join(", ")));
        let done = sql.query().execute(self.pool()).await?;
        crate::util::expect_one(done.rows_affected(), "call", id)
    }
}
