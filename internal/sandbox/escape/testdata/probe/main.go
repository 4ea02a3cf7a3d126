// Command probe is the escape suite's helper: each subcommand attempts one
// thing a sandboxed program should not be able to do and prints what the
// kernel answered. It reports syscall results; it never decides whether an
// escape happened (the suite does that from the world's state and this
// output).
//
// It is built statically by the suite's TestMain and copied setuid root for
// the privilege case.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// markerPrefix starts the argv[0] of the host's marker process.
const markerPrefix = "sentinel-marker-"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe creds|ptrace|alloc|spawn|connect|dns|dns-system|mount|kernel ARGS")
		os.Exit(2)
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "creds":
		err = creds()
	case "ptrace":
		err = ptraceAttach(args)
	case "alloc":
		err = alloc(args)
	case "spawn":
		err = spawn(args)
	case "connect":
		err = connect(args)
	case "dns":
		err = dnsExplicit(args)
	case "dns-system":
		err = dnsSystem(args)
	case "mount":
		err = mount(args)
	case "kernel":
		err = kernel()
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

// creds prints the effective uid and the effective capability set.
func creds() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	capEff := "unknown"
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff = strings.TrimSpace(v)
		}
	}
	fmt.Printf("creds: euid=%d uid=%d capeff=%s\n", os.Geteuid(), os.Getuid(), capEff)
	return nil
}

// ptraceAttach seizes PID and says so only when the seized process is the
// host's marker (its argv[0] carries the marker prefix), so that a process
// of the sandbox's own that happens to have the same pid is not taken for it.
func ptraceAttach(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: ptrace PID")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	if err := unix.PtraceSeize(pid); err != nil {
		fmt.Printf("ptrace: seize %d refused: %v\n", pid, err)
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && strings.HasPrefix(string(cmdline), markerPrefix) {
		fmt.Printf("ptrace: attached to the marker (pid %d)\n", pid)
	} else {
		fmt.Printf("ptrace: attached to pid %d, which is not the marker\n", pid)
	}
	return nil // exiting detaches
}

// alloc allocates N bytes and touches every page.
func alloc(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: alloc BYTES")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	buf := make([]byte, n)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	fmt.Printf("alloc: touched %d bytes\n", len(buf))
	return nil
}

// spawn starts up to N sleeping processes named TAG at once, reports how
// many started, then kills them all: a bounded fork bomb.
func spawn(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: spawn N TAG")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return err
	}
	var started []*os.Process
	defer func() {
		for _, p := range started {
			_ = p.Kill()
			_, _ = p.Wait()
		}
	}()
	var firstErr error
	for range n {
		p, err := os.StartProcess(sleep, []string{args[1], "60"}, &os.ProcAttr{})
		if err != nil {
			firstErr = err
			break
		}
		started = append(started, p)
	}
	fmt.Printf("spawn: started %d of %d at once\n", len(started), n)
	if firstErr != nil {
		fmt.Printf("spawn: stopped by: %v\n", firstErr)
	}
	return nil
}

// connect dials ADDR directly and through every proxy the environment
// names, writing a line through each connection that opens.
func connect(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: connect HOST:PORT")
	}
	target := args[0]
	report("direct", dialDirect(target))
	seen := map[string]bool{}
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "FTP_PROXY"} {
		raw := os.Getenv(name)
		if raw == "" || seen[raw] {
			continue
		}
		seen[raw] = true
		u, err := url.Parse(raw)
		if err != nil {
			report("via "+name, err)
			continue
		}
		switch u.Scheme {
		case "http", "https":
			report("via "+name+" (http connect)", dialHTTPProxy(u, target))
		case "socks5", "socks5h":
			report("via "+name+" (socks5)", dialSOCKS5(u, target))
		}
	}
	return nil
}

func report(how string, err error) {
	if err != nil {
		fmt.Printf("connect %s: refused: %v\n", how, err)
		return
	}
	fmt.Printf("connect %s: connected\n", how)
}

func dialDirect(target string) error {
	c, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return greet(c)
}

// greet sends one request line and reads the answer, so that a tunnel that
// only pretends to be open is not counted.
func greet(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "HTTP/1.0 200") {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}

func dialHTTPProxy(proxy *url.URL, target string) error {
	c, err := net.DialTimeout("tcp", proxy.Host, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if proxy.User != nil {
		pass, _ := proxy.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(proxy.User.Username() + ":" + pass))
		req += "Proxy-Authorization: Basic " + cred + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.Contains(status, " 200") {
		return fmt.Errorf("proxy answered %q", strings.TrimSpace(status))
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" {
			break
		}
	}
	return greet(c)
}

func dialSOCKS5(proxy *url.URL, target string) error {
	host, portText, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", proxy.Host, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	method := byte(0x00)
	if proxy.User != nil {
		method = 0x02
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		return err
	}
	reply := make([]byte, 2)
	if _, err := io.ReadFull(c, reply); err != nil {
		return err
	}
	if reply[1] != method {
		return fmt.Errorf("socks method %d refused", method)
	}
	if method == 0x02 {
		user := proxy.User.Username()
		pass, _ := proxy.User.Password()
		msg := append([]byte{1, byte(len(user))}, user...)
		msg = append(append(msg, byte(len(pass))), pass...)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			return err
		}
		if reply[1] != 0 {
			return errors.New("socks authentication refused")
		}
	}
	req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req); err != nil {
		return err
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(c, head); err != nil {
		return err
	}
	if head[1] != 0 {
		return fmt.Errorf("socks connect refused with code %d", head[1])
	}
	var skip int
	switch head[3] {
	case 1:
		skip = 4 + 2
	case 4:
		skip = 16 + 2
	case 3:
		l := make([]byte, 1)
		if _, err := io.ReadFull(c, l); err != nil {
			return err
		}
		skip = int(l[0]) + 2
	}
	if _, err := io.ReadFull(c, make([]byte, skip)); err != nil {
		return err
	}
	return greet(c)
}

// dnsExplicit sends an A query for NAME to each SERVER (host:port).
func dnsExplicit(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: dns NAME SERVER [SERVER]")
	}
	for _, server := range args[1:] {
		query(server, args[0])
	}
	return nil
}

// dnsSystem queries the name servers of /etc/resolv.conf as this process
// sees it. It asks only servers that are loopback addresses or named on the
// command line: a query must never leave the test machine.
func dnsSystem(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: dns-system NAME [ALLOWED-ADDR]")
	}
	allowed := map[string]bool{}
	for _, a := range args[1:] {
		allowed[a] = true
	}
	conf, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		fmt.Printf("dns-system: no resolv.conf: %v\n", err)
		return nil
	}
	for line := range strings.SplitSeq(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		ip := net.ParseIP(f[1])
		if ip == nil {
			continue
		}
		if !ip.IsLoopback() && !allowed[ip.String()] {
			fmt.Printf("dns-system: not asking %s: it is outside the test network\n", ip)
			continue
		}
		query(net.JoinHostPort(ip.String(), "53"), args[0])
	}
	return nil
}

func query(server, name string) {
	c, err := net.DialTimeout("udp", server, time.Second)
	if err != nil {
		fmt.Printf("dns %s: refused: %v\n", server, err)
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	msg := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for label := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		msg = append(append(msg, byte(len(label))), label...)
	}
	msg = append(msg, 0, 0, 1, 0, 1)
	if _, err := c.Write(msg); err != nil {
		fmt.Printf("dns %s: refused: %v\n", server, err)
		return
	}
	buf := make([]byte, 512)
	if _, err := c.Read(buf); err != nil {
		fmt.Printf("dns %s: no answer: %v\n", server, err)
		return
	}
	fmt.Printf("dns %s: answered\n", server)
}

// mount mounts a small tmpfs on DIR and unmounts it again.
func mount(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: mount DIR")
	}
	if err := unix.Mount("sentinel-escape", args[0], "tmpfs", 0, "size=64k"); err != nil {
		fmt.Printf("mount: refused: %v\n", err)
		return nil
	}
	fmt.Printf("mount: mounted tmpfs on %s\n", args[0])
	if err := unix.Unmount(args[0], unix.MNT_DETACH); err != nil {
		fmt.Printf("mount: unmount failed: %v\n", err)
	}
	return nil
}

// kernel tries to load a (deliberately invalid) kernel module and a
// one-instruction BPF socket filter. The module image is garbage, so even
// a permitted load fails in the loader; what counts is whether the
// permission check let it get that far.
func kernel() error {
	err := unix.InitModule([]byte("not a module"), "")
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		fmt.Printf("kernel: module load refused: %v\n", err)
	case errors.Is(err, unix.ENOSYS):
		fmt.Printf("kernel: module loading unsupported here: %v\n", err)
	default:
		fmt.Printf("kernel: module load permitted (loader said: %v)\n", err)
	}
	fd, err := loadBPF()
	if err != nil {
		fmt.Printf("kernel: bpf load refused: %v\n", err)
		return nil
	}
	fmt.Println("kernel: bpf program loaded")
	return unix.Close(fd)
}

// The program and its license live in package variables so that the
// addresses handed to the kernel stay valid (stacks move; globals do not).
var (
	bpfInsns = []uint64{
		0x00000000000000b7, // mov r0, 0
		0x0000000000000095, // exit
	}
	bpfLicense = []byte("GPL\x00")
)

// loadBPF loads "r0 = 0; exit" as a socket filter.
func loadBPF() (int, error) {
	insns, license := bpfInsns, bpfLicense
	var attr [128]byte
	binary.LittleEndian.PutUint32(attr[0:], unix.BPF_PROG_TYPE_SOCKET_FILTER)
	binary.LittleEndian.PutUint32(attr[4:], uint32(len(insns)))
	binary.LittleEndian.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&insns[0]))))
	binary.LittleEndian.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}
