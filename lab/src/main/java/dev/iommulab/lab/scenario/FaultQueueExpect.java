package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code fault-queue}: how many groups a process's fault object holds — {@code unread} on its deliver
 * list, {@code unanswered} read and waiting in its response table — at the end of the run, or when step
 * {@code afterStep} (1-based) was over. At least one of the two is given.
 *
 * @param process    declared process name
 * @param unread     expected groups not read yet, or {@code null}
 * @param unanswered expected groups read and not answered, or {@code null}
 * @param afterStep  1-based step number, or {@code null} for the end of the run
 * @param location   where the expectation is written
 */
public record FaultQueueExpect(String process, Integer unread, Integer unanswered, Integer afterStep,
                               SourceLocation location) implements Expectation, ProcessRef {

    /** Validates the fields. */
    public FaultQueueExpect {
        Checks.name(process, "process");
        Checks.optionalRange(unread, 0, Integer.MAX_VALUE, "unread");
        Checks.optionalRange(unanswered, 0, Integer.MAX_VALUE, "unanswered");
        if (unread == null && unanswered == null) {
            throw new IllegalArgumentException("fault-queue needs unread or unanswered");
        }
        Checks.optionalRange(afterStep, 1, Integer.MAX_VALUE, "after-step");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "fault-queue " + process + Checks.opt("unread", unread) + Checks.opt("unanswered", unanswered)
                + (afterStep == null ? " at the end" : " after step " + afterStep);
    }
}
