-- SIP passwords are no longer kept in clear (portable SQLite/PostgreSQL, see 0001):
--  * agents.sip_realm / sip_ha1_md5 / sip_ha1_sha256: the digest HA1s,
--    H(username:realm:password), per algorithm, and the realm they were
--    computed for (HA1 depends on it);
--  * agents.sip_password stays as an empty column: neither SQLite nor
--    PostgreSQL can compute the HA1s here (SQLite has no md5()), so at start
--    the server hashes any clear password left in it with the configured realm
--    and empties it (Storage::hash_clear_sip_passwords);
--  * campaigns.dtmf_clear: 1 lets consoles and logs see the digits customers
--    key in this campaign's calls; by default (0) they are masked (PCI DSS).

ALTER TABLE agents ADD COLUMN sip_realm TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN sip_ha1_md5 TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN sip_ha1_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN dtmf_clear BIGINT NOT NULL DEFAULT 0;
