package keys

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for crypto.SHA256.New
)

// crypto256 is the hash of RFC 7638 thumbprints used for key IDs.
const crypto256 = crypto.SHA256
