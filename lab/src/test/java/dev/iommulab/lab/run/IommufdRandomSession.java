package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.vfio.Iommufd;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * What one seed of {@link IommufdRandomTest} shares between its kinds of operation: the seeded random source, the
 * machine, the iommufd context, user space's {@link IommufdRandomModel} and the {@link IommufdRandomLedger}, plus
 * the log, the failures and the tally. {@link #call} runs one kernel call and compares its answer with the
 * prediction.
 */
final class IommufdRandomSession {

    static final long VA = 0x7f0000000000L;
    static final long IOVA = 0x100000L;
    static final long PAGE = 4096;
    /** Pages of the process buffer, mapped 1:1 at IOVA + page. */
    static final int WINDOW = 64;
    static final int NO_PASID = IommuCore.IOMMU_NO_PASID;

    final long seed;
    final SplittableRandom random;
    final IommufdRandomModel model = new IommufdRandomModel();
    final List<Device> devices = new ArrayList<>();
    final List<IommufdRandomLedger.File> files = new ArrayList<>();
    final StringBuilder log = new StringBuilder();
    final List<String> failures = new ArrayList<>();
    private final Map<String, Integer> tally;
    InvariantWatch watch;
    Machine machine;
    EventLoop loop;
    IommuCore core;
    Iopf iopf;
    MmStruct mm;
    Iommufd ctx;
    Iommufd.ReplaceAutoResponse mode;
    IommufdRandomLedger ledger;
    final IommufdRandomObjects objects = new IommufdRandomObjects(this);
    final IommufdRandomAttach attachments = new IommufdRandomAttach(this);
    final IommufdRandomTeardown teardown = new IommufdRandomTeardown(this);
    final IommufdRandomIo io = new IommufdRandomIo(this);

    IommufdRandomSession(long seed, Map<String, Integer> tally) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.tally = tally;
    }

    Device randomDevice() {
        return devices.get(random.nextInt(devices.size()));
    }

    /** Mostly PASIDs 1-3; sometimes the RID. */
    int randomPasid() {
        return random.nextInt(6) == 0 ? NO_PASID : 1 + random.nextInt(3);
    }

    IommufdRandomLedger.File randomFile() {
        return files.isEmpty() ? null : files.get(random.nextInt(files.size()));
    }

    /** Whether {@code f}'s file is open: its fault object (ids are reused) is alive and the file not closed. */
    boolean isOpen(IommufdRandomLedger.File f) {
        IommufdRandomModel.Fault fo = model.faults.get(f.faultId);
        return fo != null && fo.ledger == f && fo.open && !model.closed;
    }

    /**
     * Each fault file holds exactly the groups the ledger says are unread and read-but-unanswered: a group leaves it
     * only by its answer (checked after every operation, and inside each teardown before its own checks).
     */
    void checkFiles() {
        for (IommufdRandomLedger.File f : files) {
            int unread = f.file.undelivered();
            int unanswered = f.file.awaitingResponse();
            if (unread == f.deliver.size() && unanswered == f.response.size()) {
                continue;
            }
            fail("fault object %d holds %d unread and %d unanswered group(s), expected %d and %d: %s / %s",
                    f.faultId, unread, unanswered, f.deliver.size(), f.response.size(), f.deliver, f.response);
        }
    }

    boolean run(String what, Errno expected, Runnable body) {
        return call(what, expected, () -> {
            body.run();
            return Boolean.TRUE;
        }) != null;
    }

    /**
     * Runs a kernel call expecting {@code expected} (null: success); a different answer is a failure of the seed.
     *
     * @return the call's value, or null when it failed
     */
    <T> T call(String what, Errno expected, Callable<T> body) {
        T value;
        try {
            value = body.call();
        } catch (KernelException e) {
            if (e.errno() != expected) {
                fail("%s: %s, expected %s%s", what, e.getMessage(), expected == null ? "success" : expected,
                        where(e));
            } else {
                note("%s -> %s", what, e.errno());
            }
            return null;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        if (expected != null) {
            fail("%s succeeded, expected %s", what, expected);
        }
        return value;
    }

    /** The lab's frames of {@code e}'s stack, below the test's own. */
    static String where(Exception e) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement el : e.getStackTrace()) {
            if (el.getClassName().startsWith("dev.iommulab") && !el.getClassName().contains("IommufdRandom")) {
                sb.append("\n    at ").append(el);
            }
        }
        return sb.toString();
    }

    void count(String what, int n) {
        tally.merge(what, n, Integer::sum);
    }

    void note(String format, Object... args) {
        log.append(String.format("%8dns  ", loop == null ? 0 : loop.now())).append(String.format(format, args))
                .append('\n');
    }

    void fail(String format, Object... args) {
        String msg = String.format(format, args);
        failures.add(msg);
        note("FAIL %s", msg);
    }
}
