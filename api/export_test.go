package api

import "github.com/kooperacje/kooperacje/credentials"

// ForgetFailures forgets every recorded sign-in failure, as if the engine
// had just started; for tests that measure answers without throttling.
func (s *Server) ForgetFailures() {
	s.loginThrottle = credentials.NewThrottle(loginFreeFailures, maxThrottleDelay)
	s.addrThrottle = credentials.NewThrottle(addressFreeFailures, maxThrottleDelay)
}
