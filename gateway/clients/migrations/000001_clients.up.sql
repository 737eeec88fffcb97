-- API clients that exchange a client id and secret for a short-lived
-- token at POST /v1/auth/token.
CREATE TABLE clients (
    id           text PRIMARY KEY CHECK (id ~ '^cl_[0-9a-f]{32}$'),
    -- bcrypt hash of the secret; the secret itself is shown once, at
    -- creation, and never stored.
    secret_hash  text NOT NULL,
    -- The subject of the tokens the client gets: the user or service it
    -- acts for.
    owner        text NOT NULL CHECK (length(owner) BETWEEN 1 AND 255),
    name         text NOT NULL DEFAULT '',
    roles        text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
