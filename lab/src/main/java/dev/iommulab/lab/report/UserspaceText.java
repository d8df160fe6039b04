package dev.iommulab.lab.report;

import dev.iommulab.lab.run.RunResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The text report's view of one process's iommufd: records read, answers written, client figures, what is owed. */
final class UserspaceText {

    private UserspaceText() {
    }

    static void render(StringBuilder out, RunResult.UserspaceEntry u) {
        line(out, String.format(Locale.ROOT, "%s: user-response %s, read buffer %d bytes, devices %s%s%s", u.process(),
                u.userResponse(), u.readBytes(), u.devices().isEmpty() ? "none" : u.devices().toString()
                        .replace("{", "").replace("}", "").replace("=", " dev_id "),
                u.faultFileOpen() ? "" : ", fault fd closed", u.iommufdClosed() ? ", iommufd closed" : ""));
        line(out, "  records read:" + (u.recordsRead().isEmpty() ? " none" : ""));
        for (RunResult.PgFaultEntry r : u.recordsRead()) {
            line(out, String.format(Locale.ROOT, "    %12s  %-6s read %d: dev_id %d pasid %d grpid %d perm %s addr %s "
                    + "flags %s cookie %d%s", TextReporter.time(r.atNs()), r.by(), r.read(), r.devId(), r.pasid(),
                    r.grpid(), perm(r.perm()), r.addr(), flags(r.flags()), r.cookie(),
                    r.reserved() != 0 || r.length() != 0 ? " reserved " + r.reserved() + " length " + r.length() : ""));
        }
        line(out, "  responses written:" + (u.responsesWritten().isEmpty() ? " none" : ""));
        for (RunResult.PageResponseWritten w : u.responsesWritten()) {
            line(out, String.format(Locale.ROOT, "    %12s  %-6s cookie %d code %s: %s", TextReporter.time(w.atNs()),
                    w.by(), w.cookie(), w.codeName(), w.accepted() ? "accepted" : "rejected " + w.error()));
        }
        RunResult.ClientStats c = u.client();
        line(out, String.format(Locale.ROOT, "  client: %d group(s) read, %d SUCCESS, %d INVALID, %d rejected, "
                + "%d read(s) too small", c.groupsRead(), c.success(), c.invalid(), c.rejected(), c.tooSmall()));
        line(out, String.format(Locale.ROOT, "  owed at end: %d unread, %d read and unanswered", u.unread(),
                u.unanswered()));
    }

    /** {@code READ|WRITE|EXEC|PRIV} of {@code IOMMU_PGFAULT_PERM_*}. */
    static String perm(int perm) {
        return names(perm, "READ", "WRITE", "EXEC", "PRIV");
    }

    /** {@code PASID_VALID|LAST_PAGE} of {@code IOMMU_PGFAULT_FLAGS_*}, and bit 2 the kernel's NEEDS_PASID. */
    static String flags(int flags) {
        return names(flags, "PASID_VALID", "LAST_PAGE", "NEEDS_PASID");
    }

    private static String names(int bits, String... names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if ((bits & (1 << i)) != 0) {
                out.add(i < names.length ? names[i] : "bit" + i);
            }
        }
        return out.isEmpty() ? "0" : String.join("|", out);
    }

    private static void line(StringBuilder out, String text) {
        out.append("  ").append(text).append(System.lineSeparator());
    }
}
