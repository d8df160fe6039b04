package dev.iommulab.lab.run;

import static dev.iommulab.lab.run.IommufdRandomSession.IOVA;
import static dev.iommulab.lab.run.IommufdRandomSession.PAGE;
import static dev.iommulab.lab.run.IommufdRandomSession.WINDOW;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.PgFaultRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The traffic of {@link IommufdRandomTest}: device DMA and raw page request groups on one side, and on the other user
 * space reading the fault files with small and illegal buffers (iommufd_fault_fops_read(): whole groups, 0 when the
 * first does not fit, ESPIPE) and writing answers that mix right cookies, unknown cookies, repeats and bad codes
 * (iommufd_fault_fops_write(): stops at the first bad one, EINVAL when that is the first). Every read's bytes and
 * every write's consumed count are predicted (linux-fault-stack.md §5.3, §5.4).
 */
final class IommufdRandomIo {

    private static final int[] READ_SIZES = {0, 40, 40, 80, 80, 120, 160, 240, 400};
    private static final int[] BAD_READ_SIZES = {1, 8, 20, 39, 41, 44, 100, -40};
    /** Raw page request groups use PRGIs from here up, the function's own groups count up from 0. */
    private static final int RAW_PRGI = 384;

    private final IommufdRandomSession s;
    private final Map<Device, Integer> rawPrgi = new HashMap<>();

    IommufdRandomIo(IommufdRandomSession s) {
        this.s = s;
    }

    /** DMA at the RID or a PASID to a window IOVA, mapped or not (beyond the window: never resolvable). */
    void dma() {
        Device dev = s.randomDevice();
        int pasid = s.random.nextInt(3) == 0 ? -1 : s.randomPasid();
        long addr = IOVA + s.random.nextInt(WINDOW + 4) * PAGE + s.random.nextInt(2) * 0x800L;
        int size = 64 + s.random.nextInt(2 * (int) PAGE);
        Access access = s.random.nextInt(3) == 0 ? Access.READ : Access.WRITE;
        byte[] data = null;
        if (access == Access.WRITE) {
            data = new byte[size];
            for (int i = 0; i < size; i++) {
                data[i] = (byte) s.random.nextInt(256);
            }
        }
        s.note("dma %s PASID %d %s %#x+%d", dev.name(), pasid, access, addr, size);
        s.machine.endpoint(dev.name()).startDma(new DmaJob(addr, size, access, pasid, false, data),
                outcome -> s.count("dma " + outcome.status().label(), 1));
    }

    /**
     * A group of 1-3 raw page requests sent back to back; the last with LPIG unless the group is left open (not on
     * the device with 4 credits, which an open group would starve).
     */
    void rawGroup() {
        Device dev = s.randomDevice();
        PcieEndpoint ep = s.machine.endpoint(dev.name());
        int prgi = rawPrgi.merge(dev, 1, Integer::sum) + RAW_PRGI - 1;
        if (prgi > PageRequestMessage.PRGI_MASK) {
            return;
        }
        int pasid = s.random.nextInt(3) == 0 ? -1 : s.randomPasid();
        int pages = 1 + s.random.nextInt(3);
        boolean open = ep.config().priCapacity() > 8 && s.random.nextInt(6) == 0;
        boolean write = s.random.nextBoolean();
        long first = IOVA + s.random.nextInt(WINDOW + 4) * PAGE;
        s.note("raw group %s PASID %d PRGI %d: %d page(s) from %#x%s", dev.name(), pasid, prgi, pages, first,
                open ? ", left open" : "");
        s.count(open ? "raw groups left open" : "raw groups", 1);
        for (int i = 0; i < pages; i++) {
            boolean last = !open && i == pages - 1;
            ep.sendPageRequest(new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0), false, false, !write,
                    write, last, prgi, first + i * PAGE), null);
        }
    }

    /** read() of a fault file with a small buffer, sometimes an illegal size or position (ESPIPE) or a closed fd. */
    void read() {
        IommufdRandomLedger.File f = s.randomFile();
        if (f == null) {
            return;
        }
        boolean open = s.isOpen(f);
        int count = s.random.nextInt(6) == 0 ? BAD_READ_SIZES[s.random.nextInt(BAD_READ_SIZES.length)]
                : READ_SIZES[s.random.nextInt(READ_SIZES.length)];
        long pos = s.random.nextInt(12) == 0 ? (s.random.nextBoolean() ? 40 : 1) : 0;
        Errno expected = !open ? Errno.EBADF : pos != 0 || count < 0 || count % 40 != 0 ? Errno.ESPIPE : null;
        List<IommufdRandomLedger.Group> want = expected == null ? f.wouldRead(count) : List.of();
        String what = String.format("read(fault %d, %d, pos %d)", f.faultId, count, pos);
        byte[] got = s.call(what, expected, () -> f.file.read(count, pos));
        s.count(expected == null ? "reads" : "reads refused " + expected, 1);
        if (got == null) {
            return;
        }
        if (got.length == 0) {
            s.count("reads returning 0", 1);
        }
        checkRecords(what, got, want);
    }

    /** The bytes are exactly the predicted groups' records; each new cookie obeys §8b invariant 4. */
    private void checkRecords(String what, byte[] got, List<IommufdRandomLedger.Group> want) {
        int expectedBytes = want.stream().mapToInt(g -> g.faults.size() * IommufdFault.RECORD_SIZE).sum();
        if (got.length != expectedBytes) {
            s.fail("%s returned %d bytes, expected %d for %s", what, got.length, expectedBytes, want);
            return;
        }
        List<PgFaultRecord> records = PgFaultRecord.decode(got);
        int at = 0;
        for (IommufdRandomLedger.Group g : want) {
            int cookie = records.get(at).cookie();
            for (IommuFault f : g.faults) {
                PgFaultRecord r = records.get(at++);
                PgFaultRecord exp = new PgFaultRecord(f.flags(), g.devId, f.pasid(), f.grpid(), f.perm(), 0,
                        f.addr(), 0, cookie);
                if (!r.equals(exp)) {
                    s.fail("%s: record %d is %s, expected %s", what, at - 1, r, exp);
                }
            }
            s.ledger.read(g, cookie);
            s.count("groups read", 1);
        }
        s.note("%s -> %d bytes, %d group(s)", what, got.length, want.size());
    }

    /** What a write must do: the answers consumed before the first bad one, with their codes. */
    private record Prediction(List<IommufdRandomLedger.Group> answered, List<Integer> codes) {
    }

    /**
     * write() of 0-4 answers to a fault file; before SUCCESS user space maps most faulting pages. Sometimes 4 bytes
     * too many or a position (ESPIPE) or a closed fd (EBADF).
     */
    void write() {
        IommufdRandomLedger.File f = s.randomFile();
        if (f == null) {
            return;
        }
        boolean open = s.isOpen(f);
        TreeMap<Integer, IommufdRandomLedger.Group> table = new TreeMap<>(f.response);
        List<int[]> answers = new ArrayList<>();
        int n = s.random.nextInt(8) == 0 ? 0 : 1 + s.random.nextInt(4);
        for (int i = 0; i < n; i++) {
            answers.add(answer(table, answers));
        }
        Prediction p = predict(f, answers);
        byte[] bytes = PgFaultRecord.encodeResponses(answers.toArray(int[][]::new));
        boolean oddLength = s.random.nextInt(14) == 0;
        long pos = s.random.nextInt(20) == 0 ? 8 : 0;
        byte[] data = oddLength ? Arrays.copyOf(bytes, bytes.length + 4) : bytes;
        Errno expected = !open ? Errno.EBADF : pos != 0 || oddLength ? Errno.ESPIPE
                : p.answered().isEmpty() && !answers.isEmpty() ? Errno.EINVAL : null;
        if (expected == null) {
            resolve(p);
        }
        int before = s.ledger.answersSeen;
        String what = String.format("write(fault %d, %s, pos %d)", f.faultId, describe(answers, oddLength), pos);
        Integer done = s.call(what, expected, () -> f.file.write(data, pos));
        s.count(expected == null ? "writes" : "writes refused " + expected, 1);
        if (done == null) {
            if (s.ledger.answersSeen != before) {
                s.fail("%s was refused but answered %d group(s)", what, s.ledger.answersSeen - before);
            }
            return;
        }
        checkWritten(what, done, p, answers.size(), s.ledger.answersSeen - before);
    }

    /** In order, the first bad answer (unknown cookie or a code other than SUCCESS/INVALID) stops the write. */
    private static Prediction predict(IommufdRandomLedger.File f, List<int[]> answers) {
        TreeMap<Integer, IommufdRandomLedger.Group> table = new TreeMap<>(f.response);
        List<IommufdRandomLedger.Group> answered = new ArrayList<>();
        List<Integer> codes = new ArrayList<>();
        for (int[] a : answers) {
            if (a[1] != IommufdFault.RESP_SUCCESS && a[1] != IommufdFault.RESP_INVALID || !table.containsKey(a[0])) {
                break;
            }
            answered.add(table.remove(a[0]));
            codes.add(a[1]);
        }
        return new Prediction(answered, codes);
    }

    private void checkWritten(String what, int done, Prediction p, int written, int answers) {
        if (done != p.answered().size() * IommufdFault.RESPONSE_SIZE) {
            s.fail("%s consumed %d bytes, expected %d", what, done, p.answered().size() * IommufdFault.RESPONSE_SIZE);
            return;
        }
        if (p.answered().size() < written) {
            s.count("writes stopped at a bad answer", 1);
        }
        if (answers != p.answered().size()) {
            s.fail("%s answered %d group(s), expected %d", what, answers, p.answered().size());
        }
        for (int i = 0; i < p.answered().size(); i++) {
            IommufdRandomLedger.Group g = p.answered().get(i);
            String code = p.codes().get(i) == IommufdFault.RESP_SUCCESS ? "SUCCESS" : "INVALID";
            if (g.answers != 1 || g.origin != ResponseOrigin.IOMMUFD || !g.code.name().equals(code)) {
                s.fail("%s: %s should be answered %s by iommufd, is %s by %s", what, g, code, g.code, g.origin);
            }
        }
        s.note("%s -> %d", what, done);
    }

    /** One {cookie, code} answer: right, a repeat within the batch, a bad code, or an unknown cookie. */
    private int[] answer(TreeMap<Integer, IommufdRandomLedger.Group> table, List<int[]> earlier) {
        int kind = s.random.nextInt(100);
        if (kind < 60 && !table.isEmpty()) {
            List<Integer> cookies = new ArrayList<>(table.keySet());
            int cookie = cookies.get(s.random.nextInt(cookies.size()));
            table.remove(cookie);
            return new int[] {cookie, s.random.nextInt(5) < 3 ? IommufdFault.RESP_SUCCESS : IommufdFault.RESP_INVALID};
        }
        if (kind < 75 && !earlier.isEmpty()) {
            return new int[] {earlier.get(s.random.nextInt(earlier.size()))[0], IommufdFault.RESP_SUCCESS};
        }
        if (kind < 88) {
            int[] codes = {2, 3, -1, 0x10};
            int cookie = table.isEmpty() ? 1 + s.random.nextInt(4) : table.firstKey();
            s.count("answers with a bad code", 1);
            return new int[] {cookie, codes[s.random.nextInt(codes.length)]};
        }
        int[] unknown = {0, 1 + s.random.nextInt(8), 100 + s.random.nextInt(100), -7};
        s.count("answers with an unknown cookie", 1);
        return new int[] {unknown[s.random.nextInt(unknown.length)], IommufdFault.RESP_INVALID};
    }

    private static String describe(List<int[]> answers, boolean oddLength) {
        StringBuilder sb = new StringBuilder("[");
        answers.forEach(a -> sb.append(sb.length() > 1 ? " " : "").append(a[0]).append(':').append(a[1]));
        return sb.append(oddLength ? "]+4 bytes" : "]").toString();
    }

    /** Before answering SUCCESS user space maps most faulting pages of the window into the IOAS (pinned). */
    private void resolve(Prediction p) {
        for (int i = 0; i < p.answered().size(); i++) {
            if (p.codes().get(i) != IommufdFault.RESP_SUCCESS || s.random.nextInt(3) == 0 || s.model.ioasId == 0) {
                continue;
            }
            for (IommuFault f : p.answered().get(i).faults) {
                long page = (f.addr() - IOVA) / PAGE;
                if (f.addr() >= IOVA && page < WINDOW && !s.model.mapped(f.addr() & -PAGE, PAGE)) {
                    s.objects.map((int) page, 1);
                }
            }
        }
    }
}
