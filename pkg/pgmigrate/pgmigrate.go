// Package pgmigrate applies a service's embedded SQL migrations to its own
// PostgreSQL schema with golang-migrate.
package pgmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ReportingRole is the read-only login role that every schema's migrations
// grant SELECT to, for reports and audits.
const ReportingRole = "ledger_reporting"

// Up creates schema and the login roles if needed, then applies every
// pending migration of files (*.up.sql and *.down.sql at its root) with
// search_path set to schema, so migrations name their tables without it.
// The version table is schema.schema_migrations. It is safe to run from
// several replicas at once: golang-migrate holds a PostgreSQL advisory lock
// while it migrates.
//
// The connecting user becomes the owner of everything the migrations
// create, so it needs CREATEROLE and must not be a role a service runs as.
func Up(ctx context.Context, databaseURL, schema string, files fs.FS, roles ...string) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	// A schema name cannot be a parameter. Each service passes its schema
	// constant, and Sanitize quotes it as an identifier.
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	for _, role := range roles {
		if err := createRole(ctx, db, role); err != nil {
			return err
		}
	}

	src, err := iofs.New(files, ".")
	if err != nil {
		return fmt.Errorf("read embedded migrations: %w", err)
	}
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{SchemaName: schema, MigrationsTable: "schema_migrations"})
	if err != nil {
		return fmt.Errorf("prepare migration driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	// Close releases the driver's dedicated connection; a session left open
	// would keep the database from serving as a template for tests.
	defer m.Close()

	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// createRole creates a login role that owns nothing and holds no privilege
// beyond what the migrations grant it, unless it exists. Roles belong to
// the whole PostgreSQL cluster, so several databases (and parallel tests)
// share them, and a concurrent creation is not an error. A role created here
// has no password: set one, or a certificate, for connections that need it.
func createRole(ctx context.Context, db *sql.DB, role string) error {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
		return fmt.Errorf("look up role %s: %w", role, err)
	}
	if exists {
		return nil
	}
	// A role name cannot be a parameter; Sanitize quotes it as an identifier.
	_, err := db.ExecContext(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+
		" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == pgerrcode.DuplicateObject || pgErr.Code == pgerrcode.UniqueViolation) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create role %s: %w", role, err)
	}
	return nil
}
