-- Where an agent's audio may come from (portable SQLite/PostgreSQL, see 0001):
-- 'either' (the agent chooses at each login: browser audio or a SIP phone),
-- 'browser' (calls only ever go to the console's browser audio; the SIP
-- phone is never rung) or 'phone' (a SIP phone only; the console cannot
-- open browser audio). Set by an admin.

ALTER TABLE agents ADD COLUMN audio TEXT NOT NULL DEFAULT 'either';
