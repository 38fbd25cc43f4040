package qix

import "testing"

// A key names the session it was given to and no other: once unregistered it finds nothing, also after its
// slot went to another session (a late call from C with the old key must not reach the new session).
func TestSessionKeysAreNotReused(t *testing.T) {
	a, b := &Session{}, &Session{}
	ka := registerSession(a)
	if sessionByKey(ka) != a {
		t.Fatal("a registered key does not find its session")
	}
	unregisterSession(ka)
	if s := sessionByKey(ka); s != nil {
		t.Fatal("an unregistered key still finds its session")
	}
	kb := registerSession(b)
	defer unregisterSession(kb)
	if kb == ka {
		t.Fatalf("key %#x given again", ka)
	}
	if sessionByKey(kb) != b || sessionByKey(ka) != nil {
		t.Fatal("the old key finds the slot's new session")
	}
	if sessionByKey(0) != nil || sessionByKey(1<<40|999) != nil {
		t.Fatal("a key never given finds a session")
	}
}
