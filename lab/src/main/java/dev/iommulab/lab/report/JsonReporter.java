package dev.iommulab.lab.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.iommulab.lab.run.RunResult;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * The {@code --format json} output: one JSON object, the shape SCENARIO-FORMAT.md defines. {@link #write} streams it
 * through Jackson's generator, entry by entry, so a run with a million page responses is never held as one string.
 */
public final class JsonReporter {

    /** Thread-safe once configured; made once per JVM, its serializers cached across reports. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    public String render(RunResult result) {
        StringWriter out = new StringWriter();
        write(result, out);
        return out.toString();
    }

    /** Writes {@code result} to {@code out} as it goes; {@code out} stays open. */
    public void write(RunResult result, Writer out) {
        try {
            MAPPER.writeValue(out, result);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the run result", e);
        }
    }
}
