package idempotency

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
	"google.golang.org/protobuf/proto"

	paymentv1 "github.com/advancia-pay/ledger/proto/gen/ledger/payment/v1"
)

// FuzzValidateKey checks that ValidateKey accepts exactly the keys of 1 to
// MaxKeyLength bytes from 0x20 to 0x7E and returns ErrMissing for the empty
// key only. Every accepted key must be a valid HTTP header value, so that
// the gateway can forward it to the services.
func FuzzValidateKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)

		if (key == "") != errors.Is(err, ErrMissing) {
			t.Fatalf("ValidateKey(%q) = %v, want ErrMissing exactly for the empty key", key, err)
		}
		if want := printableASCII(key) && len(key) <= MaxKeyLength; (err == nil) != want {
			t.Fatalf("ValidateKey(%q) = %v, want valid %v", key, err, want)
		}
		if err == nil && !httpguts.ValidHeaderFieldValue(key) {
			t.Errorf("ValidateKey accepted %q, which is not a valid HTTP header value", key)
		}
	})
}

// printableASCII reports whether key is non-empty and every byte is
// between 0x20 and 0x7E.
func printableASCII(key string) bool {
	if key == "" {
		return false
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// FuzzFingerprint checks that Fingerprint is SHA-256 over the method, a zero
// byte and the request's deterministic encoding. Two requests must get the
// same fingerprint under one method exactly when they are equal, whatever
// the order their metadata maps were filled in. Two methods without a zero
// byte never share a fingerprint, and only a request with a string that is
// not valid UTF-8 fails to encode.
func FuzzFingerprint(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, otherMethod string, amount, otherAmount int64, currency, description, metadataKey, metadataValue string) {
		first := paymentRequest(amount, currency, description, metadataKey, metadataValue, false)
		second := paymentRequest(otherAmount, currency, description, metadataKey, metadataValue, true)

		got, err := Fingerprint(method, first)
		validUTF8 := utf8.ValidString(currency) && utf8.ValidString(description) &&
			utf8.ValidString(metadataKey) && utf8.ValidString(metadataValue)
		if (err == nil) != validUTF8 {
			t.Fatalf("Fingerprint error = %v, want an error exactly for invalid UTF-8 (valid: %v)", err, validUTF8)
		}
		if err != nil {
			return
		}

		body, err := proto.MarshalOptions{Deterministic: true}.Marshal(first)
		if err != nil {
			t.Fatalf("encode the request: %v", err)
		}
		want := sha256.Sum256(append(append([]byte(method), 0), body...))
		if !bytes.Equal(got, want[:]) {
			t.Fatalf("Fingerprint = %x, want SHA-256 of method, 0 and body = %x", got, want)
		}

		other, err := Fingerprint(method, second)
		if err != nil {
			t.Fatalf("Fingerprint of the second request: %v", err)
		}
		if bytes.Equal(got, other) != proto.Equal(first, second) {
			t.Errorf("fingerprints equal %v, requests equal %v; want both the same\nfirst  %v\nsecond %v",
				bytes.Equal(got, other), proto.Equal(first, second), first, second)
		}

		if method == otherMethod || strings.ContainsRune(method, 0) || strings.ContainsRune(otherMethod, 0) {
			return
		}
		underOther, err := Fingerprint(otherMethod, first)
		if err != nil {
			t.Fatalf("Fingerprint under %q: %v", otherMethod, err)
		}
		if bytes.Equal(got, underOther) {
			t.Errorf("methods %q and %q share the fingerprint %x", method, otherMethod, got)
		}
	})
}

// paymentRequest builds a request with two metadata entries, added in
// reverse order when reversed is set.
func paymentRequest(amount int64, currency, description, metadataKey, metadataValue string, reversed bool) *paymentv1.CreatePaymentRequest {
	entries := [][2]string{{"order", "17"}, {metadataKey, metadataValue}}
	if reversed {
		entries[0], entries[1] = entries[1], entries[0]
	}
	metadata := map[string]string{}
	for _, entry := range entries {
		metadata[entry[0]] = entry[1]
	}
	return &paymentv1.CreatePaymentRequest{
		PayeeWalletId: "wallet-2",
		Amount:        amount,
		Currency:      currency,
		Method:        "wallet",
		PayerWalletId: "wallet-1",
		Description:   description,
		Metadata:      metadata,
	}
}
