package dev.iommulab.lab.scenario;

import dev.iommulab.core.kernel.Errno;
import java.util.Arrays;
import java.util.List;

/**
 * Binds the arguments of the expectations {@code step-error}, {@code fault-read}, {@code fault-write} and
 * {@code fault-queue}.
 */
final class VfioExpectationArgs {

    private static final List<String> ERRNOS = Arrays.stream(Errno.values()).map(Enum::name).toList();

    private final int stepCount;

    /** {@code stepCount}: how many steps the scenario has (what {@code after-step} may name). */
    VfioExpectationArgs(int stepCount) {
        this.stepCount = stepCount;
    }

    Expectation bind(String kind, Fields f, SourceLocation loc) {
        return switch (kind) {
            case "step-error" -> stepError(f, loc);
            case "fault-read" -> faultRead(f, loc);
            case "fault-write" -> faultWrite(f, loc);
            default -> faultQueue(f, loc);
        };
    }

    private static Expectation stepError(Fields f, SourceLocation loc) {
        String step = f.choice("step", StepKinds.keys(), null);
        String errno = f.choice("errno", ERRNOS);
        Integer count = f.integer("count", 0, Integer.MAX_VALUE, null);
        return f.ok() ? new StepErrorExpect(step, errno, count, loc) : null;
    }

    private static Expectation faultRead(Fields f, SourceLocation loc) {
        String process = f.process("process");
        String by = f.choice("by", FaultReadExpect.BY, null);
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        Integer grpid = f.integer("grpid", 0, Checks.MAX_GRPID, null);
        Boolean last = f.bool("last", null);
        Integer records = f.integer("records", 0, Integer.MAX_VALUE, null);
        Integer groups = f.integer("groups", 0, Integer.MAX_VALUE, null);
        return f.ok() ? new FaultReadExpect(process, by, pasid, grpid, last, records, groups, loc) : null;
    }

    private static Expectation faultWrite(Fields f, SourceLocation loc) {
        String process = f.process("process");
        String by = f.choice("by", FaultReadExpect.BY, null);
        String codeText = f.string("code", null);
        Long code = null;
        if (codeText != null) {
            code = FaultWrite.CODES.get(codeText);
            if (code == null) {
                code = number(f, "code", codeText, "SUCCESS, INVALID or a number");
            }
        }
        Long cookie = f.number("cookie", null);
        Boolean accepted = f.bool("accepted", null);
        Integer count = f.integer("count", 0, Integer.MAX_VALUE, null);
        return f.ok() ? new FaultWriteExpect(process, by, code, cookie, accepted, count, loc) : null;
    }

    private Expectation faultQueue(Fields f, SourceLocation loc) {
        String process = f.process("process");
        Integer unread = f.integer("unread", 0, Integer.MAX_VALUE, null);
        Integer unanswered = f.integer("unanswered", 0, Integer.MAX_VALUE, null);
        Integer afterStep = f.integer("after-step", 1, Math.max(1, stepCount), null);
        if (!f.has("unread") && !f.has("unanswered")) {
            f.error(f.pos(), "", "a fault-queue expectation needs unread or unanswered");
        }
        return f.ok() ? new FaultQueueExpect(process, unread, unanswered, afterStep, loc) : null;
    }

    private static Long number(Fields f, String key, String text, String expected) {
        try {
            return Numbers.parseSize(text);
        } catch (IllegalArgumentException e) {
            f.error(f.valuePos(key), key, "expected " + expected + ", found '" + text + "'");
            return null;
        }
    }
}
