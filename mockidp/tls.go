package mockidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// certLifetime is how long the generated CA and server certificate are
// valid. They live only as long as the Server, so a day is plenty.
const certLifetime = 24 * time.Hour

// newLocalTLS generates a CA and a server certificate for 127.0.0.1, ::1,
// localhost and the host of baseURL, both ECDSA P-256, and writes the CA
// certificate to caFile unless it is empty. It returns the server's TLS
// configuration and the CA certificate in PEM form. The CA's private key
// is dropped once it has signed, so nothing else can be issued under it.
func newLocalTLS(baseURL, caFile string) (*tls.Config, []byte, error) {
	// Certificate validity uses real time, as TLS clients check it.
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mockidp: generate CA key: %w", err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: "mockidp local test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("mockidp: create CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, fmt.Errorf("mockidp: parse CA certificate: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mockidp: generate server key: %w", err)
	}
	leafTemplate := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: "mockidp"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			leafTemplate.IPAddresses = append(leafTemplate.IPAddresses, ip)
		} else if u.Hostname() != "localhost" {
			leafTemplate.DNSNames = append(leafTemplate.DNSNames, u.Hostname())
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTemplate, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("mockidp: create server certificate: %w", err)
	}

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if caFile != "" {
		if err := writeFileAtomic(caFile, caPEM); err != nil {
			return nil, nil, err
		}
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{leafDER, caDER},
			PrivateKey:  leafKey,
		}},
	}
	return cfg, caPEM, nil
}

// serialNumber returns a random 128-bit certificate serial number.
func serialNumber() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("mockidp: random serial number: %v", err))
	}
	return n
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so a reader never sees half a file. The file is world-readable:
// a CA certificate is public.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mockidp-*.tmp")
	if err != nil {
		return fmt.Errorf("mockidp: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("mockidp: write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("mockidp: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mockidp: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("mockidp: write %s: %w", path, err)
	}
	return nil
}

// TLSConfig returns the server's TLS configuration in HTTPS mode, to wrap
// a listener with tls.NewListener, or nil without Config.HTTPS.
func (s *Server) TLSConfig() *tls.Config {
	if s.tlsConfig == nil {
		return nil
	}
	return s.tlsConfig.Clone()
}

// CACertificate returns the PEM-encoded certificate of the CA that issued
// the server's certificate in HTTPS mode, or nil without Config.HTTPS.
func (s *Server) CACertificate() []byte {
	return append([]byte(nil), s.caPEM...)
}

// Client returns an HTTP client for the server, with a 10 s timeout. In
// HTTPS mode it trusts the server's CA and no other.
func (s *Server) Client() *http.Client {
	client := &http.Client{Timeout: 10 * time.Second}
	if s.caPEM == nil {
		return client
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	client.Transport = &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	return client
}
