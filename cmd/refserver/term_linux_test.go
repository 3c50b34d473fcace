package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		missing(t, "no pseudo-terminals here: "+err.Error())
	}
	t.Cleanup(func() { _ = m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return m, s
}

func TestPasswordIsNotEchoedOnATerminal(t *testing.T) {
	master, tty := openPTY(t)
	var stderr strings.Builder
	got := make(chan string, 1)
	go func() {
		pw, err := readPassword(tty, &stderr)
		if err != nil {
			pw = "error: " + err.Error()
		}
		got <- pw
	}()
	// Type only once echo is off: the prompt comes after it.
	require.Eventually(t, func() bool {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0
	}, 5*time.Second, 5*time.Millisecond)
	_, err := master.WriteString("s3cret-horse-battery\n")
	require.NoError(t, err)
	select {
	case pw := <-got:
		require.Equal(t, "s3cret-horse-battery", pw)
	case <-time.After(5 * time.Second):
		t.Fatal("readPassword did not return")
	}
	// What the terminal showed, up to a marker written after the read.
	_, err = tty.WriteString("<end>")
	require.NoError(t, err)
	shown := make(chan string, 1)
	go func() {
		var all []byte
		buf := make([]byte, 256)
		for !strings.Contains(string(all), "<end>") {
			n, err := master.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				break
			}
		}
		shown <- string(all)
	}()
	select {
	case out := <-shown:
		require.NotContains(t, out, "s3cret")
		require.Contains(t, out, "<end>")
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal showed nothing")
	}
	require.Equal(t, "Password: \n", stderr.String())
	// Echo is back on afterwards.
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	require.NoError(t, err)
	require.NotZero(t, tio.Lflag&unix.ECHO)
}
