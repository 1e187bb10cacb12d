package io.forkyard.client;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.forkyard.api.Command;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SnapshotId;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The daemon's JSON wire format, shared by {@code forkyard serve} and {@link RemoteSandboxes} so
 * both ends agree byte for byte. Value records of the api travel as they are (ids as plain strings,
 * instants as ISO-8601, durations as ISO-8601 like {@code PT0.25S}); requests whose api type is not
 * a plain record travel as the bodies defined here. Parsing is strict: unknown fields, wrong types
 * and numbers-for-enums are refused.
 */
public final class WireFormat {
  /** Media type of server-sent events (streamed command output, followed processes). */
  public static final String EVENT_STREAM = "text/event-stream";

  public static final String JSON = "application/json";

  /** Header naming one client instance; the daemon's per-client concurrency limit keys on it. */
  public static final String CLIENT_HEADER = "X-Forkyard-Client";

  private static final ObjectMapper MAPPER = createMapper();

  private WireFormat() {}

  /** The configured mapper; thread-safe, do not reconfigure. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  public static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new ForkyardException(ErrorCode.INTERNAL, "cannot encode " + value.getClass(), e);
    }
  }

  /**
   * Parses a request or response body. Any problem becomes an {@link InvalidRequestException} whose
   * message names the field; a validation error of an api type keeps its own message.
   */
  public static <T> T read(byte[] body, Class<T> type) {
    if (body.length == 0) {
      throw new InvalidRequestException(
          "the request needs a JSON body (" + type.getSimpleName() + ")");
    }
    try {
      T value = MAPPER.readValue(body, type);
      if (value == null) {
        throw new InvalidRequestException("the JSON body must be an object, not null");
      }
      return value;
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  public static <T> T read(byte[] body, com.fasterxml.jackson.core.type.TypeReference<T> type) {
    try {
      return MAPPER.readValue(body, type);
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  static InvalidRequestException invalid(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ForkyardException fe) {
        return new InvalidRequestException(fe.getMessage(), e);
      }
    }
    String where = "";
    if (e instanceof JsonMappingException jme && !jme.getPath().isEmpty()) {
      where = " at '" + jme.getPathReference().replaceFirst("^[^\\[\"]*", "") + "'";
    }
    String detail =
        e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    return new InvalidRequestException("malformed JSON body" + where + ": " + firstLine(detail), e);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static ObjectMapper createMapper() {
    SimpleModule ids = new SimpleModule("forkyard-ids");
    ids.addSerializer(SandboxId.class, new ToStringSerializer<>());
    ids.addSerializer(SnapshotId.class, new ToStringSerializer<>());
    ids.addDeserializer(
        SandboxId.class,
        new JsonDeserializer<>() {
          @Override
          public SandboxId deserialize(JsonParser p, DeserializationContext ctx)
              throws IOException {
            return SandboxId.of(p.getValueAsString());
          }
        });
    ids.addDeserializer(
        SnapshotId.class,
        new JsonDeserializer<>() {
          @Override
          public SnapshotId deserialize(JsonParser p, DeserializationContext ctx)
              throws IOException {
            return SnapshotId.of(p.getValueAsString());
          }
        });
    JsonMapper mapper =
        JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .addModule(ids)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();
    // "5" for an int, 1.5 for an int, or true for a string are type errors, not conversions.
    mapper
        .coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    return mapper;
  }

  private static final class ToStringSerializer<T> extends JsonSerializer<T> {
    @Override
    public void serialize(T value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(value.toString());
    }
  }

  // ---- bodies

  /** Error body of every 4xx/5xx answer. */
  public record ErrorBody(String code, String message) {
    public static ErrorBody of(ForkyardException e) {
      return new ErrorBody(e.code().name(), e.getMessage() == null ? "" : e.getMessage());
    }

    /** The exception this body describes, of the most specific type for its code. */
    public ForkyardException toException() {
      ErrorCode parsed;
      try {
        parsed = ErrorCode.valueOf(code);
      } catch (IllegalArgumentException | NullPointerException e) {
        parsed = ErrorCode.INTERNAL;
      }
      return ForkyardException.of(parsed, message == null ? "" : message);
    }
  }

  /** A {@link SandboxSpec}: {@code POST /v1/sandboxes}. Absent fields take defaults. */
  public record SpecBody(
      String image,
      SnapshotId snapshot,
      Resources resources,
      Long timeoutSecs,
      String name,
      Map<String, String> labels,
      NetworkPolicy network,
      Map<String, String> env) {

    public static SpecBody of(SandboxSpec spec) {
      return new SpecBody(
          spec.image().orElse(null),
          spec.snapshot().orElse(null),
          spec.resources().orElse(null),
          spec.timeoutSecs() == 0 ? null : spec.timeoutSecs(),
          spec.name().orElse(null),
          spec.labels().isEmpty() ? null : spec.labels(),
          spec.network().orElse(null),
          spec.env().isEmpty() ? null : spec.env());
    }

    public SandboxSpec toSpec() {
      return builder().image(image).snapshot(snapshot).build();
    }

    SandboxSpec.Builder builder() {
      SandboxSpec.Builder b =
          SandboxSpec.builder()
              .resources(resources)
              .timeoutSecs(timeoutSecs == null ? 0 : timeoutSecs)
              .name(name)
              .network(network);
      if (labels != null) {
        requireNoNullValues("labels", labels);
        b.labels(labels);
      }
      if (env != null) {
        requireNoNullValues("env", env);
        b.env(env);
      }
      return b;
    }
  }

  /**
   * Overrides for the copies of a batch fork: {@code POST /v1/snapshots/{id}/fork}. The snapshot
   * comes from the path; resources may be set only for FILESYSTEM snapshots.
   */
  public record ForkBody(
      int count,
      Resources resources,
      Long timeoutSecs,
      String name,
      Map<String, String> labels,
      NetworkPolicy network,
      Map<String, String> env) {

    public static ForkBody of(SandboxSpec spec, int count) {
      SpecBody s = SpecBody.of(spec);
      return new ForkBody(
          count, s.resources(), s.timeoutSecs(), s.name(), s.labels(), s.network(), s.env());
    }

    public SandboxSpec toSpec(SnapshotId snapshot) {
      return new SpecBody(null, snapshot, resources, timeoutSecs, name, labels, network, env)
          .toSpec();
    }
  }

  /** A {@link Command}; {@code stdin} is base64, {@code timeoutMs} 0 or absent: the default. */
  public record CommandBody(
      List<String> argv, Map<String, String> env, String cwd, Long timeoutMs, String stdin) {

    public static CommandBody of(Command c) {
      byte[] in = c.stdin();
      return new CommandBody(
          c.argv(),
          c.env().isEmpty() ? null : c.env(),
          c.cwd(),
          c.timeout().toMillis(),
          in.length == 0 ? null : Base64.getEncoder().encodeToString(in));
    }

    public Command toCommand() {
      if (env != null) {
        requireNoNullValues("env", env);
      }
      byte[] in;
      try {
        in = stdin == null ? new byte[0] : Base64.getDecoder().decode(stdin);
      } catch (IllegalArgumentException e) {
        throw new InvalidRequestException("stdin must be base64: " + e.getMessage());
      }
      if (timeoutMs != null && timeoutMs < 0) {
        throw new InvalidRequestException("timeoutMs must not be negative, got " + timeoutMs);
      }
      Duration timeout = timeoutMs == null || timeoutMs == 0 ? null : Duration.ofMillis(timeoutMs);
      return new Command(argv, env, cwd, timeout, in);
    }
  }

  /** {@code POST /v1/sandboxes/{id}/processes/{pid}/signal}. */
  public record SignalBody(int signal) {
    public SignalBody {
      if (signal < 1 || signal > 64) {
        throw new InvalidRequestException("signal must be between 1 and 64, got " + signal);
      }
    }
  }

  /** Output of a background process still held by the daemon (the most recent bytes). */
  public record ProcessOutput(String stdout, String stderr, boolean truncated) {}

  private static void requireNoNullValues(String what, Map<String, String> map) {
    for (var e : map.entrySet()) {
      if (e.getValue() == null) {
        throw new InvalidRequestException(
            what + " value of '" + e.getKey() + "' must be a string, not null");
      }
    }
  }
}
