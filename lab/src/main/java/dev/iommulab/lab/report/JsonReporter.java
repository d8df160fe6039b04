package dev.iommulab.lab.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.iommulab.lab.run.RunResult;

/** The {@code --format json} output: one JSON object, the shape SCENARIO-FORMAT.md defines. */
public final class JsonReporter {

    /** Thread-safe once configured; made once per JVM, its serializers cached across reports. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String render(RunResult result) {
        try {
            return MAPPER.writeValueAsString(result);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("run result is not serialisable", e);
        }
    }
}
