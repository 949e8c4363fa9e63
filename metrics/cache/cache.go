// Package cache is charisbench's embedding cache: a SQLite database (modernc.org/sqlite,
// pure Go) of encoder outputs and per-sample records, keyed by what determines them
// (image bytes sha256, encoder sha256, preprocessing id; or a sample's inputs and the
// metric config). Two processes may use one cache at once: the database runs in WAL mode
// with a busy timeout, and writes are idempotent (same key, same value).
package cache

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS is how long a writer waits for another process's lock.
const busyTimeoutMS = 30000

// Cache is an open cache database.
type Cache struct {
	db *sql.DB
}

// DefaultPath is $XDG_CACHE_HOME/charisbench/cache.sqlite (or the OS equivalent).
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "charisbench", "cache.sqlite"), nil
}

// Open opens (creating if needed) the cache at path.
func Open(path string) (*Cache, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)", path, busyTimeoutMS)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS entries (
		kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache %s: %w; it holds only what scoring recomputes: delete it, or pass --no-cache or another --cache", path, err)
	}
	return &Cache{db: db}, nil
}

// Close closes the database.
func (c *Cache) Close() error { return c.db.Close() }

// Get returns the value stored under (kind, key); ok is false when there is none.
func (c *Cache) Get(kind, key string) (value []byte, ok bool, err error) {
	err = c.db.QueryRow(`SELECT value FROM entries WHERE kind = ? AND key = ?`, kind, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache get: %w", err)
	}
	return value, true, nil
}

// Put stores value under (kind, key), replacing what was there.
func (c *Cache) Put(kind, key string, value []byte) error {
	if _, err := c.db.Exec(`INSERT OR REPLACE INTO entries (kind, key, value) VALUES (?, ?, ?)`, kind, key, value); err != nil {
		return fmt.Errorf("cache put: %w", err)
	}
	return nil
}

// EncodeFloats packs float32 values little-endian.
func EncodeFloats(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeFloats unpacks EncodeFloats.
func DecodeFloats(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("cache: float blob of %d bytes", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
