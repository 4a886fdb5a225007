-- Sessions of the web pages: a person signed in with Entra ID (or, for
-- automation's owners, with an API token), kept in Postgres so that every API
-- process knows them, an admin can end one, and signing out ends it
-- everywhere. Only the hash of the cookie's secret is kept.
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash         bytea       NOT NULL CHECK (length(hash) = 32),
    -- csrf is the anti-forgery token the session's pages send with every
    -- change; it is not a credential on its own.
    csrf         text        NOT NULL CHECK (length(csrf) >= 32),
    -- name is who the audit log and timelines name: the UPN of an Entra ID
    -- account, or token:NAME.
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 320),
    display_name text        NOT NULL DEFAULT '',
    role         text        NOT NULL CHECK (role IN ('helpdesk', 'lead', 'admin')),
    -- via is how the session began: entra (OpenID Connect) or token.
    via          text        NOT NULL CHECK (via IN ('entra', 'token')),
    -- subject is the account's tenant and object ID (tid/oid) for entra.
    subject      text        NOT NULL DEFAULT '',
    -- token_id: a session begun with a token ends when the token is revoked.
    token_id     bigint      REFERENCES api_tokens (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    ended_by     text,
    CONSTRAINT sessions_hash_key UNIQUE (hash)
);
CREATE INDEX sessions_open_idx ON sessions (expires_at) WHERE ended_at IS NULL;
