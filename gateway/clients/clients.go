// Package clients manages the API clients that exchange an id and a
// secret for a token. Secrets are stored only as bcrypt hashes.
package clients

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidCredentials is returned for an unknown or revoked client and
// for a wrong secret alike, so a caller cannot tell which.
var ErrInvalidCredentials = errors.New("clients: invalid client credentials")

// ErrNotFound is returned by Revoke for an unknown client.
var ErrNotFound = errors.New("clients: client not found")

// Client is an API client without its secret.
type Client struct {
	ID        string
	Owner     string
	Name      string
	Roles     []string
	CreatedAt time.Time
	RevokedAt *time.Time
}

var idPattern = regexp.MustCompile(`^cl_[0-9a-f]{32}$`)

// Store keeps clients in the gateway schema. It is safe for concurrent
// use.
type Store struct {
	pool *pgxpool.Pool
	cost int
	// dummyHash is compared against when the client is unknown, so that a
	// miss costs as much time as a wrong secret.
	dummyHash []byte
}

// NewStore returns a Store; cost is the bcrypt cost (bcrypt.DefaultCost
// when 0).
func NewStore(pool *pgxpool.Pool, cost int) (*Store, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no client has this secret"), cost)
	if err != nil {
		return nil, fmt.Errorf("prepare dummy hash: %w", err)
	}
	return &Store{pool: pool, cost: cost, dummyHash: dummy}, nil
}

// Create registers a client acting for owner with roles, and returns it
// with its secret, which is not stored and cannot be shown again.
func (s *Store) Create(ctx context.Context, owner, name string, roles []string) (Client, string, error) {
	if owner == "" {
		return Client{}, "", errors.New("owner is required")
	}
	id, secret, err := newCredentials()
	if err != nil {
		return Client{}, "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), s.cost)
	if err != nil {
		return Client{}, "", fmt.Errorf("hash secret: %w", err)
	}
	if roles == nil {
		roles = []string{}
	}
	c := Client{ID: id, Owner: owner, Name: name, Roles: roles}
	err = s.pool.QueryRow(ctx, `INSERT INTO clients (id, secret_hash, owner, name, roles, created_at)
		VALUES ($1, $2, $3, $4, $5, now()) RETURNING created_at`, id, string(hash), owner, name, roles).Scan(&c.CreatedAt)
	if err != nil {
		return Client{}, "", fmt.Errorf("insert client: %w", err)
	}
	return c, secret, nil
}

func newCredentials() (id, secret string, err error) {
	var idBytes [16]byte
	var secretBytes [32]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return "", "", fmt.Errorf("generate client id: %w", err)
	}
	if _, err := rand.Read(secretBytes[:]); err != nil {
		return "", "", fmt.Errorf("generate client secret: %w", err)
	}
	return "cl_" + hex.EncodeToString(idBytes[:]), "cs_" + base64.RawURLEncoding.EncodeToString(secretBytes[:]), nil
}

// List returns every client, newest first.
func (s *Store) List(ctx context.Context) ([]Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, owner, name, roles, created_at, revoked_at FROM clients ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Client, error) {
		var c Client
		err := r.Scan(&c.ID, &c.Owner, &c.Name, &c.Roles, &c.CreatedAt, &c.RevokedAt)
		return c, err
	})
}

// Revoke disables a client; its tokens already issued stay valid until
// they expire.
func (s *Store) Revoke(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke client: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Authenticate returns the active client with this id and secret, or
// ErrInvalidCredentials.
func (s *Store) Authenticate(ctx context.Context, id, secret string) (Client, error) {
	hash := s.dummyHash
	var c Client
	var revoked *time.Time
	found := false
	if idPattern.MatchString(id) && len(secret) <= 128 {
		var stored string
		err := s.pool.QueryRow(ctx, `SELECT secret_hash, owner, name, roles, created_at, revoked_at FROM clients WHERE id = $1`, id).
			Scan(&stored, &c.Owner, &c.Name, &c.Roles, &c.CreatedAt, &revoked)
		switch {
		case err == nil:
			hash, found = []byte(stored), true
		case !errors.Is(err, pgx.ErrNoRows):
			return Client{}, fmt.Errorf("read client: %w", err)
		}
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(secret)) != nil || !found || revoked != nil {
		return Client{}, ErrInvalidCredentials
	}
	c.ID = id
	return c, nil
}
