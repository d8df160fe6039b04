package dev.iommulab.vfio;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/**
 * The fault-reading thread of a {@link UserspaceDriver}: woken by the fault file, it reads whole groups and answers
 * them by cookie as the driver's {@link UserspaceDriver.Policy} says, mapping faulting pages from the buffers the
 * driver registered for mapping on fault. Created by the driver's first bind, when the IOAS and the fault file exist.
 */
final class UserspaceFaultReader {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    private final Iommufd iommufd;
    private final MmStruct mm;
    private final int ioasId;
    private final NavigableMap<Long, UserspaceDriver.Mapping> onFault;
    private final IommufdFault file;
    private final EventLoop loop;
    private final TimingModel timing;
    private final UserspaceDriver.Policy policy;
    private final int readBytes;
    private boolean wakeScheduled;
    private int groupsRead;
    private int success;
    private int invalid;
    private int rejected;
    private int tooSmall;

    /** @param onFault the driver's buffers mapped on fault, by IOVA (read here, kept by the driver) */
    UserspaceFaultReader(Iommufd iommufd, MmStruct mm, int ioasId, NavigableMap<Long, UserspaceDriver.Mapping> onFault,
                         IommufdFault file, EventLoop loop, TimingModel timing, UserspaceDriver.Policy policy,
                         int readBytes) {
        this.iommufd = iommufd;
        this.mm = mm;
        this.ioasId = ioasId;
        this.onFault = onFault;
        this.file = file;
        this.loop = loop;
        this.timing = timing;
        this.policy = policy;
        this.readBytes = readBytes;
    }

    UserspaceDriver.Stats stats() {
        return new UserspaceDriver.Stats(groupsRead, success, invalid, rejected, tooSmall);
    }

    /** The fault file's waiter: one pass of {@link #service} after {@code threadWakeNs}, however often woken. */
    void wake() {
        if (!wakeScheduled) {
            wakeScheduled = true;
            loop.schedule(timing.threadWakeNs(), "user fault reader", this::service);
        }
    }

    /** See {@link UserspaceDriver#service()}. */
    void service() {
        wakeScheduled = false;
        if (!file.isOpen()) {
            return;
        }
        while ((file.poll() & IommufdFault.POLLIN) != 0) {
            byte[] got = file.read(readBytes, 0);
            if (got.length == 0) {
                tooSmall++;
                trace("read(%d) returned 0: the next group does not fit", readBytes);
                return;
            }
            Map<Integer, List<PgFaultRecord>> groups = new LinkedHashMap<>();
            for (PgFaultRecord r : PgFaultRecord.decode(got)) {
                groups.computeIfAbsent(r.cookie(), c -> new ArrayList<>()).add(r);
            }
            groupsRead += groups.size();
            trace("read %d bytes: %d group(s), cookies %s", got.length, groups.size(), groups.keySet());
            if (policy != UserspaceDriver.Policy.NEVER) {
                answer(groups);
            }
        }
    }

    private void answer(Map<Integer, List<PgFaultRecord>> groups) {
        List<int[]> answers = new ArrayList<>();
        int mapped = 0;
        for (Map.Entry<Integer, List<PgFaultRecord>> g : groups.entrySet()) {
            boolean ok = policy == UserspaceDriver.Policy.RESOLVE_AND_SUCCEED;
            for (PgFaultRecord r : g.getValue()) {
                if (!ok) {
                    break;
                }
                int result = resolve(r);
                ok = result >= 0;
                mapped += Math.max(result, 0);
            }
            answers.add(new int[] {g.getKey(), ok ? IommufdFault.RESP_SUCCESS : IommufdFault.RESP_INVALID});
        }
        int[][] all = answers.toArray(int[][]::new);
        loop.schedule(mapped * timing.handleMmFaultNs(), "user fault answers", () -> write(all));
    }

    /** Maps the page of {@code r} from a registered buffer: 1 if mapped now, 0 if mapped already, -1 if it cannot. */
    private int resolve(PgFaultRecord r) {
        long page = r.addr() & -PAGE;
        Map.Entry<Long, UserspaceDriver.Mapping> e = onFault.floorEntry(page);
        boolean write = (r.perm() & PgFaultRecord.PERM_WRITE) != 0;
        if (e == null || page >= e.getKey() + e.getValue().length() || write && !e.getValue().writable()) {
            return -1;
        }
        UserspaceDriver.Mapping b = e.getValue();
        try {
            iommufd.ioasMap(ioasId, mm, b.userVa() + (page - e.getKey()), PAGE, page,
                    Iommufd.IOAS_MAP_FIXED_IOVA | UserspaceDriver.mapFlags(b.writable()));
            return 1;
        } catch (KernelException ex) {
            return ex.errno() == Errno.EEXIST ? 0 : -1;
        }
    }

    /** Writes the answers; one the kernel rejects (a cookie answered meanwhile) is skipped and the rest written. */
    private void write(int[][] answers) {
        int at = 0;
        while (at < answers.length && file.isOpen()) {
            int done;
            try {
                done = file.write(PgFaultRecord.encodeResponses(Arrays.copyOfRange(answers, at, answers.length)), 0)
                        / IommufdFault.RESPONSE_SIZE;
            } catch (KernelException e) {
                done = 0;
            }
            for (int i = at; i < at + done; i++) {
                if (answers[i][1] == IommufdFault.RESP_SUCCESS) {
                    success++;
                } else {
                    invalid++;
                }
            }
            at += done;
            if (at < answers.length) {
                rejected++;
                trace("write: the answer for cookie %d was rejected (EINVAL)", answers[at][0]);
                at++;
            }
        }
    }

    private void trace(String format, Object... args) {
        loop.trace().step(loop.now(), Layer.USER, "iommufd-client", format, args);
    }
}
