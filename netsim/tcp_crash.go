package netsim

// crash drops every connection in the table at once and sends nothing, as a
// host that crashes loses them: each fails with err (Read, Write and a Dial
// still waiting for its handshake). Host.Down and Host.Up call it.
func (t *tcpTable) crash(err error) {
	t.mu.RLock()
	conns := make([]*Conn, 0, len(t.conns))
	for _, c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.RUnlock()
	for _, c := range conns {
		c.crash(err)
	}
}

// crash closes c with err, without a RST: the host has lost it. A
// half-open passive connection gives its listener's backlog slot back.
func (c *Conn) crash(err error) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	halfOpen := c.state == stateSynReceived && c.listener != nil
	if c.state == stateSynSent || c.state == stateSynReceived {
		closeOnce(c.established)
	}
	c.state = stateClosed
	c.err = err
	c.mu.Unlock()
	if halfOpen {
		c.listener.handshakeDone()
	}
	c.release()
	c.wakeAll()
}
