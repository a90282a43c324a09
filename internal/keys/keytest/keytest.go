// Package keytest hands out RSA keys to tests without paying for key
// generation in each one. Keys are generated in the background, once per
// test binary, and every call gets a key no other call got.
package keytest

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"

	"github.com/oidcstack/oidcstack/internal/keys"
)

// prefetch is how many keys are generated ahead of demand.
const prefetch = 4

var (
	startOnce sync.Once
	pool      chan *keys.Key
)

// generators is how many goroutines generate keys: tests that need many
// keys wait on generation, which uses one core per goroutine.
const generators = 2

func start() {
	pool = make(chan *keys.Key, prefetch)
	for range generators {
		go func() {
			for {
				priv, err := rsa.GenerateKey(rand.Reader, keys.Bits)
				if err != nil {
					panic("keytest: generate RSA key: " + err.Error())
				}
				pool <- keys.FromRSA(priv)
			}
		}()
	}
}

// Key returns a fresh RSA key that no other caller in this test binary got.
func Key(tb testing.TB) *keys.Key {
	tb.Helper()
	startOnce.Do(start)
	return <-pool
}
