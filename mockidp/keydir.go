package mockidp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/oidcstack/oidcstack/internal/keys"
)

// loadKeySets returns the key set of each issuer of cfg, in order. Keys that
// must be generated are generated concurrently, since each takes about
// 70 ms of CPU.
func loadKeySets(cfg Config) ([]*keys.Set, error) {
	sets := make([]*keys.Set, len(cfg.Issuers))
	errs := make([]error, len(cfg.Issuers))
	var wg sync.WaitGroup
	for i, ic := range cfg.Issuers {
		if len(ic.Keys) > 0 {
			sets[i] = keys.NewSet(ic.Keys...)
			continue
		}
		wg.Go(func() {
			k, err := issuerKey(cfg.KeyDir, ic.Name)
			if err != nil {
				errs[i] = err
				return
			}
			sets[i] = keys.NewSet(k)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sets, nil
}

// issuerKey loads the key of the issuer called name from dir/NAME.pem, or
// generates one and, when dir is set, saves it there.
func issuerKey(dir, name string) (*keys.Key, error) {
	if dir == "" {
		return keys.Generate()
	}
	path := filepath.Join(dir, name+".pem")
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := keys.ParsePEM(data)
		if err != nil {
			// Never replace a key file we cannot read: it may be the
			// operator's, and tokens signed with it would stop verifying.
			return nil, fmt.Errorf("mockidp: key file %s: %w", path, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("mockidp: read key file: %w", err)
	}

	k, err := keys.Generate()
	if err != nil {
		return nil, err
	}
	if err := saveKey(path, k); err != nil {
		return nil, err
	}
	return k, nil
}

// saveKey writes k to path with owner-only permissions. It writes a
// temporary file and renames it, so a crash never leaves half a key.
func saveKey(path string, k *keys.Key) error {
	data, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("mockidp: create key directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*.tmp")
	if err != nil {
		return fmt.Errorf("mockidp: save key: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("mockidp: save key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mockidp: save key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("mockidp: save key: %w", err)
	}
	return nil
}
