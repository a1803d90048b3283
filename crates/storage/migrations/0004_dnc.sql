-- Contact data as contact centers have it (portable SQLite/PostgreSQL, see 0001):
--  * campaigns.default_country: ISO 3166 code used to read national phone
--    numbers of imported contacts (normalised to E.164);
--  * campaigns.calling_hours_json: when contacts may be called (JSON, see
--    switchboard_center::CallingHours), NULL = any time;
--  * contacts.timezone: the contact's IANA zone (import column), if known;
--  * dnc: do-not-call numbers, global (campaign_id '') or per campaign;
--  * agenda.origin_call_id: the call whose disposition scheduled the entry.

ALTER TABLE campaigns ADD COLUMN default_country TEXT;
ALTER TABLE campaigns ADD COLUMN calling_hours_json TEXT;
ALTER TABLE contacts ADD COLUMN timezone TEXT;
CREATE INDEX contacts_list_phone ON contacts (list_id, phone);

CREATE TABLE dnc (
    phone TEXT NOT NULL,
    campaign_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    added_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (phone, campaign_id)
);

-- The call whose disposition scheduled an agenda entry (exports join them).
ALTER TABLE agenda ADD COLUMN origin_call_id TEXT;
CREATE INDEX agenda_origin_call ON agenda (origin_call_id);
