package approval

// Waiters returns how many Waits on the approval id are blocked on s's
// wake-up channel, so that tests can decide only once a Wait is waiting.
func Waiters(s *Service, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.waiters[id]; ok {
		return w.parked
	}
	return 0
}
