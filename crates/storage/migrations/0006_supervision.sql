-- Supervision (portable SQLite/PostgreSQL, see 0001):
--  * supervisor_campaigns: the campaigns an admin assigned to a supervisor;
--    a supervisor with none sees every campaign (as before), one with some
--    sees and supervises only the calls and queues of those;
--  * campaigns.supervision_notice: whether the agent's console shows that a
--    supervisor is on the call: never | whisper_barge (default) | always;
--  * campaigns.service_level_secs: answered within this many seconds counts
--    within the queue's service level (was fixed at 20);
--  * campaigns.alert_service_level_below / alert_longest_wait_secs: queue
--    alert thresholds (percent, seconds); NULL = no alert.

CREATE TABLE supervisor_campaigns (
    supervisor_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    PRIMARY KEY (supervisor_id, campaign_id)
);
CREATE INDEX supervisor_campaigns_campaign ON supervisor_campaigns (campaign_id);

ALTER TABLE campaigns ADD COLUMN supervision_notice TEXT NOT NULL DEFAULT 'whisper_barge';
ALTER TABLE campaigns ADD COLUMN service_level_secs BIGINT NOT NULL DEFAULT 20;
ALTER TABLE campaigns ADD COLUMN alert_service_level_below BIGINT;
ALTER TABLE campaigns ADD COLUMN alert_longest_wait_secs BIGINT;
