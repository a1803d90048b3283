-- Media quality in the CDR (portable SQLite/PostgreSQL, see 0001): the final
-- figures of the call's two sides, the customer's (served party's) leg and
-- the agent's leg (the last agent's after a transfer), as the media engine
-- measured them from RTP and RTCP when the leg ended. Fractions are stored
-- as integers, like campaigns.dialer_ratio_permille:
--  * *_packets_received / *_packets_lost: RTP packets from that party;
--  * *_loss_x100: lost share of its packets, hundredths of a percent;
--  * *_jitter_us: interarrival jitter of its packets, microseconds;
--  * *_mos_x100: estimated MOS (E-model, G.711) x 100; NULL without packets.
-- Every column is NULL for calls that ended before this migration, or
-- whose side never had media.

ALTER TABLE calls ADD COLUMN customer_packets_received BIGINT;
ALTER TABLE calls ADD COLUMN customer_packets_lost BIGINT;
ALTER TABLE calls ADD COLUMN customer_loss_x100 BIGINT;
ALTER TABLE calls ADD COLUMN customer_jitter_us BIGINT;
ALTER TABLE calls ADD COLUMN customer_mos_x100 BIGINT;
ALTER TABLE calls ADD COLUMN agent_packets_received BIGINT;
ALTER TABLE calls ADD COLUMN agent_packets_lost BIGINT;
ALTER TABLE calls ADD COLUMN agent_loss_x100 BIGINT;
ALTER TABLE calls ADD COLUMN agent_jitter_us BIGINT;
ALTER TABLE calls ADD COLUMN agent_mos_x100 BIGINT;
