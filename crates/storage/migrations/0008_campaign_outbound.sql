-- Campaign outbound routing (portable SQLite/PostgreSQL, see 0001):
--  * campaign_trunks: the trunks (by their configured name) a campaign's
--    calls to numbers leave through, tried in `position` order; none: the
--    trunks' own dialling rules (priority and prefixes). Trunks live in the
--    configuration file, so the name is not a foreign key;
--  * campaigns.caller_id_number / caller_id_name / caller_id_privacy: the
--    caller ID those calls present (From and P-Asserted-Identity, privacy
--    withholding it), replacing the trunk's; NULL number: the trunk's.

CREATE TABLE campaign_trunks (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    trunk_name TEXT NOT NULL,
    PRIMARY KEY (campaign_id, position)
);

ALTER TABLE campaigns ADD COLUMN caller_id_number TEXT;
ALTER TABLE campaigns ADD COLUMN caller_id_name TEXT;
ALTER TABLE campaigns ADD COLUMN caller_id_privacy BIGINT NOT NULL DEFAULT 0;
