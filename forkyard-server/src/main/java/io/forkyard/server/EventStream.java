package io.forkyard.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Server-sent events on a response. Output chunks travel base64 in {@code stdout}/{@code stderr}
 * events (output may be binary); the last event is {@code result}, {@code exit} or {@code error}
 * with a JSON body. Once the client has gone, sends are dropped (the command runs on).
 */
final class EventStream {
  private final OutputStream out;
  private volatile boolean broken;

  EventStream(OutputStream out) {
    this.out = out;
  }

  boolean broken() {
    return broken;
  }

  void chunk(String event, byte[] bytes, int offset, int length) {
    if (length <= 0) {
      return;
    }
    byte[] slice =
        offset == 0 && length == bytes.length
            ? bytes
            : java.util.Arrays.copyOfRange(bytes, offset, offset + length);
    send(event, Base64.getEncoder().encodeToString(slice));
  }

  void json(String event, byte[] json) {
    // JSON from the wire format has no raw newlines, so one data line carries it.
    send(event, new String(json, StandardCharsets.UTF_8));
  }

  void comment(String text) {
    write(": " + text + "\n\n");
  }

  private void send(String event, String data) {
    write("event: " + event + "\ndata: " + data + "\n\n");
  }

  private synchronized void write(String text) {
    if (broken) {
      return;
    }
    try {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException | RuntimeException e) {
      broken = true;
    }
  }
}
