package qix

// TrackedObjects is the number of object handles the session holds (for the tests in package qix_test).
func TrackedObjects(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}
