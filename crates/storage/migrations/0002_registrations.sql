-- SIP registrations, so phones stay reachable across a server restart
-- (until their binding expires or they register again).
CREATE TABLE registrations (
    username TEXT NOT NULL,
    contact TEXT NOT NULL,
    peer_addr TEXT NOT NULL,
    transport TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (username, contact)
);
