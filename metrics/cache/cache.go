// Package cache is charisbench's embedding cache: a SQLite database (modernc.org/sqlite,
// pure Go) of encoder outputs and per-sample records, keyed by what determines them
// (image bytes sha256, encoder sha256, preprocessing id; or a sample's inputs and the
// metric config). Two processes may use one cache at once: the database runs in WAL mode
// with a busy timeout, and writes are idempotent (same key, same value). Each value is
// stored with a CRC-32C of its kind, key and bytes: SQLite checks its structure, not its
// contents, and a value damaged on disk or filed under another key reads as a miss (it is
// computed again), never as an answer.
package cache

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS is how long a writer waits for another process's lock.
const busyTimeoutMS = 30000

// Cache is an open cache database.
type Cache struct {
	db   *sql.DB
	path string
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
		return nil, (&Cache{path: path}).damaged(err)
	}
	return &Cache{db: db, path: path}, nil
}

// Close closes the database.
func (c *Cache) Close() error { return c.db.Close() }

// ErrDamaged is what Get returns for an entry whose checksum does not match: read it as a
// miss, and the Put that follows replaces it.
var ErrDamaged = errors.New("a damaged entry")

// Get returns the value stored under (kind, key); ok is false when there is none. An error
// (a damaged entry, a damaged database) names the cache: the caller computes the value.
func (c *Cache) Get(kind, key string) (value []byte, ok bool, err error) {
	var stored []byte
	err = c.db.QueryRow(`SELECT value FROM entries WHERE kind = ? AND key = ?`, kind, key).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, c.damaged(err)
	}
	n := len(stored) - crc32.Size
	if n < 0 || binary.LittleEndian.Uint32(stored[n:]) != checksum(kind, key, stored[:n]) {
		return nil, false, fmt.Errorf("cache %s: %w under %s %q", c.path, ErrDamaged, kind, key)
	}
	return stored[:n], true, nil
}

// Put stores value under (kind, key), replacing what was there.
func (c *Cache) Put(kind, key string, value []byte) error {
	stored := binary.LittleEndian.AppendUint32(append(make([]byte, 0, len(value)+crc32.Size), value...), checksum(kind, key, value))
	if _, err := c.db.Exec(`INSERT OR REPLACE INTO entries (kind, key, value) VALUES (?, ?, ?)`, kind, key, stored); err != nil {
		return c.damaged(err)
	}
	return nil
}

func (c *Cache) damaged(err error) error {
	return fmt.Errorf("cache %s: %w; it holds only what scoring recomputes: delete it, or pass --no-cache or another --cache", c.path, err)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum covers the entry's kind and key as well as its bytes: a value filed under
// another key does not match.
func checksum(kind, key string, value []byte) uint32 {
	h := crc32.New(castagnoli)
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(value)
	return h.Sum32()
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
