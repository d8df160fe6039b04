package dev.iommulab.lab.run;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.ScenarioLoader;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.PgFaultRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * One seed of {@link IommufdRandomTest}: a VT-d or RISC-V machine with two or three PRI-capable accelerators and one
 * process; user space binds the devices to an iommufd context, maps pinned buffers, attaches fault-capable HWPTs at
 * the RID and at PASIDs, and then a random interleaving of device DMA to unmapped IOVAs, raw page request groups,
 * reads and writes of the fault files, attach/replace/detach, IOMMU_DESTROY attempts, fault-fd close, device removal
 * and context close runs over simulated time. Every ioctl's answer is predicted from {@link IommufdRandomModel} and
 * every read's bytes from {@link IommufdRandomLedger}; the ledger checks that every group is answered exactly once.
 * Everything it draws comes from the seed.
 */
final class IommufdRandomRun {

    static final String[] DEVICES = {"acc0", "acc1", "acc2"};
    private static final long VA = 0x7f0000000000L;
    private static final long IOVA = 0x100000L;
    private static final long PAGE = 4096;
    /** Pages of the process buffer, mapped 1:1 at IOVA + page. */
    private static final int WINDOW = 64;
    /** Raw page request groups use PRGIs from here up, the function's own groups count up from 0. */
    private static final int RAW_PRGI = 384;
    private static final int NO_PASID = IommuCore.IOMMU_NO_PASID;

    /**
     * What a run found: its failures (empty when it held), the known bug that stopped it early (or null) and the log of
     * what it did.
     */
    record Outcome(List<String> failures, String knownBug, String log) {
    }

    /**
     * A bug of the lab outside this test, recognised by its exact signature (see {@link IommufdRandomTest}): the seed
     * stops there, since what follows builds on a half-done kernel call.
     */
    static final class KnownBug extends RuntimeException {
        final String name;

        KnownBug(String name, String detail) {
            super(name + ": " + detail);
            this.name = name;
        }
    }

    /**
     * Known bug 1: VT-d intel_iommu_drain_pasid_prq() and the RISC-V drain ignore iopf_queue_flush_dev()'s -ENODEV in
     * the kernel; the lab's drivers let it escape, so a detach after the lab's remove-device fails half-way.
     */
    static final String DRAIN_FLUSH_ENODEV = "drain-flush-enodev";
    /**
     * Known bug 2: IommufdFault.answerAll() reads an entry of a copied TreeMap entry list after removing it; a removed
     * node with two children takes its successor's key and value, so the successor's group is answered in its place
     * and the attachment's own group leaves the fault file unanswered.
     */
    static final String AUTO_RESPONSE_SUCCESSOR = "auto-response-successor";

    private final long seed;
    private final SplittableRandom random;
    private final Map<String, Integer> tally;
    private final StringBuilder log = new StringBuilder();
    private final List<String> failures = new ArrayList<>();
    private String knownBug;
    private final IommufdRandomModel model = new IommufdRandomModel();
    private final Map<Device, Integer> rawPrgi = new HashMap<>();
    private ScenarioRunner runner;
    private Machine machine;
    private EventLoop loop;
    private IommuCore core;
    private Iopf iopf;
    private MmStruct mm;
    private Iommufd ctx;
    private Iommufd.ReplaceAutoResponse mode;
    private IommufdRandomLedger ledger;
    private final List<Device> devices = new ArrayList<>();
    private final List<IommufdRandomLedger.File> files = new ArrayList<>();
    private long atNs;

    IommufdRandomRun(long seed, Map<String, Integer> tally) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.tally = tally;
    }

    /** Boots the machine in {@code dir}, runs the seed and checks it. */
    Outcome run(Path dir) throws Exception {
        try {
            boot(dir);
            setUp();
            int ops = 25 + random.nextInt(35);
            for (int i = 0; i < ops && failures.isEmpty(); i++) {
                advance();
                step(i > ops / 2);
                checkFiles(false);
            }
            if (failures.isEmpty()) {
                finish();
            }
        } catch (KnownBug e) {
            knownBug = e.name;
            note("KNOWN BUG %s", e.getMessage());
            return new Outcome(List.of(), knownBug, log.toString());
        } catch (RuntimeException e) {
            failures.add("threw " + e + where(e));
        }
        if (ledger != null) {
            failures.addAll(ledger.violations);
        }
        return new Outcome(List.copyOf(failures), null, log.toString());
    }

    // ---- machine and set-up ----

    private void boot(Path dir) throws Exception {
        String model = random.nextBoolean() ? "vtd" : "riscv";
        int count = 2 + random.nextInt(2);
        boolean dmaDefault = random.nextInt(4) == 0;
        StringBuilder devs = new StringBuilder();
        for (int i = 0; i < count; i++) {
            devs.append(String.format("  - { name: %s, bdf: \"00:%02x.0\", profile: accelerator, ats: true, pri: true,"
                    + " pasid-bits: 20%s }\n", DEVICES[i], 3 + i, i == 1 ? ", pri-credits: 4" : ""));
        }
        String text = """
                name: iommufd-random
                seed: %d
                hardware:
                  model: %s
                devices:
                %sprocesses:
                  - name: app
                    vmas:
                      - { start: 0x7f0000000000, size: 256KiB, prot: rw }
                steps:
                  - run: idle
                """.formatted(seed, model, devs);
        Path file = Files.writeString(dir.resolve("iommufd-random-" + seed + ".yaml"), text);
        runner = new ScenarioRunner();
        if (dmaDefault) {
            // a kernel with DMA default domains, as under vfio-pci: unbind returns the group to its DMA domain
            runner.run(new ScenarioLoader().load(file),
                    binder -> binder.bind(IommuCore.class).toInstance(new IommuCore(DomainType.DMA)));
        } else {
            // the lab's default: BLOCKED, each group held by the lab until iommufd takes the DMA ownership over
            runner.run(new ScenarioLoader().load(file));
        }
        machine = runner.machine();
        loop = machine.loop();
        core = machine.get(IommuCore.class);
        iopf = machine.iopf();
        mm = machine.process("app");
        ledger = new IommufdRandomLedger(core, loop, this::count);
        if (Boolean.getBoolean("iommufd.trace")) {
            loop.trace().addSink(ev -> {
                if (ev instanceof dev.iommulab.hw.sim.TraceEvent.Step st) {
                    log.append(String.format("%8dns      . %s %s %s%n", st.atNs(), st.layer(), st.symbol(), st.message()));
                }
            });
        }
        machine.faultEvents().addListener(ledger);
        for (int i = 0; i < count; i++) {
            String name = DEVICES[i];
            devices.add(machine.device(name));
            machine.endpoint(name).addPrgResponseListener(r -> ledger.wire(name, r));
        }
        count("hardware " + model, 1);
        count(dmaDefault ? "default domain DMA" : "default domain BLOCKED", 1);
        note("%s, %d devices, default domain %s", model, count, dmaDefault ? "DMA" : "BLOCKED");
    }

    private void setUp() {
        mode = random.nextBoolean() ? Iommufd.ReplaceAutoResponse.INTENDED
                : Iommufd.ReplaceAutoResponse.LEGACY_2025;
        count("replace mode " + mode, 1);
        note("replace mode %s", mode);
        ctx = new Iommufd(core, iopf, mode);
        for (Device dev : devices) {
            bind(dev);
        }
        model.ioasId = expectId("IOAS_ALLOC", ctx::ioasAlloc);
        int pinned = 2 + random.nextInt(7);
        map(0, pinned);
        faultAlloc();
        if (random.nextBoolean()) {
            faultAlloc();
        }
        for (int i = 0, n = 2 + random.nextInt(3); i < n; i++) {
            hwptAlloc(true);
        }
        hwptAlloc(false);
        for (Device dev : devices) {
            if (random.nextInt(4) != 0) {
                attach(dev, NO_PASID, faultCapableHwpt());
            }
            for (int pasid = 1; pasid <= 3; pasid++) {
                if (random.nextInt(3) == 0) {
                    attach(dev, pasid, faultCapableHwpt());
                }
            }
        }
    }

    /** A fault-capable HWPT of another fault object than {@code old}'s, if there is one. */
    private int otherFaultHwpt(IommufdRandomModel.Attach old) {
        List<IommufdRandomModel.Hwpt> other = model.hwpts.values().stream()
                .filter(h -> h.fault != null && (old == null || h.fault != old.hwpt().fault)).toList();
        return other.isEmpty() ? faultCapableHwpt() : other.get(random.nextInt(other.size())).id;
    }

    private int faultCapableHwpt() {
        List<IommufdRandomModel.Hwpt> capable = model.hwpts.values().stream().filter(h -> h.fault != null).toList();
        return capable.isEmpty() ? anyPt() : capable.get(random.nextInt(capable.size())).id;
    }

    // ---- the interleaving ----

    /** Half the operations wait for the machine to be idle; the others come a little after the previous one. */
    private void advance() {
        if (random.nextBoolean()) {
            loop.runUntilIdle();
        } else {
            atNs = Math.max(atNs, loop.now()) + random.nextInt(6_000);
            loop.runUntil(atNs);
        }
    }

    private void step(boolean late) {
        int kind = random.nextInt(100);
        if (model.closed) {
            if (kind < 40) {
                dma();
            } else if (kind < 60) {
                rawGroup();
            } else if (kind < 80) {
                read();
            } else {
                write();
            }
            return;
        }
        if (kind < 20) {
            dma();
        } else if (kind < 32) {
            rawGroup();
        } else if (kind < 50) {
            read();
        } else if (kind < 64) {
            write();
        } else if (kind < 68) {
            attach(randomDevice(), randomPasid(), anyPt());
        } else if (kind < 73) {
            detach();
        } else if (kind < 79) {
            replace();
        } else if (kind < 84) {
            destroy();
        } else if (kind < 86) {
            hwptAlloc(random.nextInt(4) != 0);
        } else if (kind < 88) {
            faultClose();
        } else if (kind < 90) {
            removeDevice();
        } else if (kind < 92) {
            Device dev = randomDevice();
            if (model.devIds.containsKey(dev)) {
                bind(dev); // EINVAL: bound here already
            } else {
                bind(dev);
                reattach(dev);
            }
        } else if (kind < 95) {
            ioasMapOrUnmap();
        } else if (kind < 96) {
            if (random.nextBoolean()) {
                faultAlloc();
            } else {
                retireFault();
            }
        } else if (kind < 99 || !late) {
            long ns = 100 + random.nextInt(20_000);
            note("run for %dns", ns);
            loop.runFor(ns);
        } else {
            closeContext();
        }
    }

    private void finish() {
        if (!model.closed) {
            closeContext();
        }
        loop.runUntilIdle();
        if (!loop.isIdle()) {
            fail("the machine is not idle at the end");
        }
        ledger.checkSettled();
        for (Device dev : devices) {
            if (iopf.pendingGroups(dev) != 0) {
                fail("%s still has %d pending group(s) at the end", dev.name(), iopf.pendingGroups(dev));
            }
        }
        for (IommufdRandomLedger.File f : files) {
            if (f.file.undelivered() != 0 || f.file.awaitingResponse() != 0) {
                fail("fault object %d still holds %d unread and %d unanswered group(s) at the end", f.faultId,
                        f.file.undelivered(), f.file.awaitingResponse());
            }
        }
        for (RunResult.InvariantEntry inv : runner.checkInvariants()) {
            // dma-within-mappings judges PASID accesses against SVA processes; here PASIDs translate IOAS mappings
            if (!inv.holds() && !inv.name().equals("dma-within-mappings")) {
                fail("invariant %s: %s", inv.name(), inv.detail());
            }
        }
    }

    /**
     * Each fault file holds exactly the groups the ledger says are unread and read-but-unanswered. A file holding
     * fewer right after a teardown answered groups is known bug 2 (when {@code teardown}).
     */
    private void checkFiles(boolean teardown) {
        for (IommufdRandomLedger.File f : files) {
            int unread = f.file.undelivered();
            int unanswered = f.file.awaitingResponse();
            if (unread == f.deliver.size() && unanswered == f.response.size()) {
                continue;
            }
            String detail = String.format("fault object %d holds %d unread and %d unanswered group(s), expected %d "
                    + "and %d: %s / %s", f.faultId, unread, unanswered, f.deliver.size(), f.response.size(),
                    f.deliver, f.response);
            if (teardown && unread == f.deliver.size() && unanswered < f.response.size()) {
                throw new KnownBug(AUTO_RESPONSE_SUCCESSOR, detail);
            }
            fail("%s", detail);
        }
    }

    // ---- device traffic ----

    private void dma() {
        Device dev = randomDevice();
        int pasid = random.nextInt(3) == 0 ? -1 : randomPasid();
        long addr = IOVA + random.nextInt(WINDOW + 4) * PAGE + random.nextInt(2) * 0x800L;
        int size = 64 + random.nextInt(2 * (int) PAGE);
        Access access = random.nextInt(3) == 0 ? Access.READ : Access.WRITE;
        byte[] data = null;
        if (access == Access.WRITE) {
            data = new byte[size];
            for (int i = 0; i < size; i++) {
                data[i] = (byte) random.nextInt(256);
            }
        }
        note("dma %s PASID %d %s %#x+%d", dev.name(), pasid, access, addr, size);
        machine.endpoint(dev.name()).startDma(new DmaJob(addr, size, access, pasid, false, data),
                outcome -> count("dma " + outcome.status().label(), 1));
    }

    /** A group of 1-3 raw page requests sent back to back; the last with LPIG unless the group is left open. */
    private void rawGroup() {
        Device dev = randomDevice();
        PcieEndpoint ep = machine.endpoint(dev.name());
        int prgi = rawPrgi.merge(dev, 1, Integer::sum) + RAW_PRGI - 1;
        if (prgi > PageRequestMessage.PRGI_MASK) {
            return;
        }
        int pasid = random.nextInt(3) == 0 ? -1 : randomPasid();
        int pages = 1 + random.nextInt(3);
        boolean open = ep.config().priCapacity() > 8 && random.nextInt(6) == 0;
        boolean write = random.nextBoolean();
        long first = IOVA + random.nextInt(WINDOW + 4) * PAGE;
        note("raw group %s PASID %d PRGI %d: %d page(s) from %#x%s", dev.name(), pasid, prgi, pages, first,
                open ? ", left open" : "");
        count(open ? "raw groups left open" : "raw groups", 1);
        for (int i = 0; i < pages; i++) {
            boolean last = !open && i == pages - 1;
            ep.sendPageRequest(new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0), false, false, !write,
                    write, last, prgi, first + i * PAGE), null);
        }
    }

    // ---- the fault files ----

    private static final int[] READ_SIZES = {0, 40, 40, 80, 80, 120, 160, 240, 400};
    private static final int[] BAD_READ_SIZES = {1, 8, 20, 39, 41, 44, 100, -40};

    private void read() {
        IommufdRandomLedger.File f = randomFile();
        if (f == null) {
            return;
        }
        boolean open = isOpen(f);
        int count = random.nextInt(6) == 0 ? BAD_READ_SIZES[random.nextInt(BAD_READ_SIZES.length)]
                : READ_SIZES[random.nextInt(READ_SIZES.length)];
        long pos = random.nextInt(12) == 0 ? (random.nextBoolean() ? 40 : 1) : 0;
        Errno expected = !open ? Errno.EBADF : pos != 0 || count < 0 || count % 40 != 0 ? Errno.ESPIPE : null;
        List<IommufdRandomLedger.Group> want = expected == null ? f.wouldRead(count) : List.of();
        String what = String.format("read(fault %d, %d, pos %d)", f.faultId, count, pos);
        byte[] got = call(what, expected, () -> f.file.read(count, pos));
        count(expected == null ? "reads" : "reads refused " + expected, 1);
        if (got == null) {
            return;
        }
        if (got.length == 0) {
            count("reads returning 0", 1);
        }
        checkRecords(what, got, want);
    }

    /** The bytes are exactly the predicted groups' records; each new cookie obeys §8b invariant 4. */
    private void checkRecords(String what, byte[] got, List<IommufdRandomLedger.Group> want) {
        int expectedBytes = want.stream().mapToInt(g -> g.faults.size() * IommufdFault.RECORD_SIZE).sum();
        if (got.length != expectedBytes) {
            fail("%s returned %d bytes, expected %d for %s", what, got.length, expectedBytes, want);
            return;
        }
        List<PgFaultRecord> records = PgFaultRecord.decode(got);
        int at = 0;
        for (IommufdRandomLedger.Group g : want) {
            int cookie = records.get(at).cookie();
            for (var f : g.faults) {
                PgFaultRecord r = records.get(at++);
                PgFaultRecord exp = new PgFaultRecord(f.flags(), g.devId, f.pasid(), f.grpid(), f.perm(), 0, f.addr(), 0,
                        cookie);
                if (!r.equals(exp)) {
                    fail("%s: record %d is %s, expected %s", what, at - 1, r, exp);
                }
            }
            ledger.read(g, cookie);
            count("groups read", 1);
        }
        note("%s -> %d bytes, %d group(s)", what, got.length, want.size());
    }

    private void write() {
        IommufdRandomLedger.File f = randomFile();
        if (f == null) {
            return;
        }
        boolean open = isOpen(f);
        TreeMap<Integer, IommufdRandomLedger.Group> table = new TreeMap<>(f.response);
        List<int[]> answers = new ArrayList<>();
        int n = random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            answers.add(answer(table, answers));
        }
        // predict: in order, the first bad answer (unknown cookie or code) stops the write
        TreeMap<Integer, IommufdRandomLedger.Group> sim = new TreeMap<>(f.response);
        List<IommufdRandomLedger.Group> answered = new ArrayList<>();
        List<Integer> codes = new ArrayList<>();
        for (int[] a : answers) {
            boolean bad = a[1] != IommufdFault.RESP_SUCCESS && a[1] != IommufdFault.RESP_INVALID
                    || !sim.containsKey(a[0]);
            if (bad) {
                break;
            }
            answered.add(sim.remove(a[0]));
            codes.add(a[1]);
        }
        byte[] bytes = PgFaultRecord.encodeResponses(answers.toArray(int[][]::new));
        boolean oddLength = random.nextInt(14) == 0;
        long pos = random.nextInt(20) == 0 ? 8 : 0;
        if (oddLength) {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length + 4);
        }
        Errno expected = !open ? Errno.EBADF : pos != 0 || oddLength ? Errno.ESPIPE
                : answered.isEmpty() && !answers.isEmpty() ? Errno.EINVAL : null;
        if (expected == null) {
            resolve(answered, codes);
        }
        int before = ledger.answersSeen;
        byte[] data = bytes;
        String what = String.format("write(fault %d, %s, pos %d)", f.faultId, describe(answers, oddLength), pos);
        Integer done = call(what, expected, () -> f.file.write(data, pos));
        count(expected == null ? "writes" : "writes refused " + expected, 1);
        if (done == null) {
            if (ledger.answersSeen != before) {
                fail("%s was refused but answered %d group(s)", what, ledger.answersSeen - before);
            }
            return;
        }
        if (done != answered.size() * IommufdFault.RESPONSE_SIZE) {
            fail("%s consumed %d bytes, expected %d", what, done, answered.size() * IommufdFault.RESPONSE_SIZE);
            return;
        }
        if (answered.size() < answers.size()) {
            count("writes stopped at a bad answer", 1);
        }
        if (ledger.answersSeen - before != answered.size()) {
            fail("%s answered %d group(s), expected %d", what, ledger.answersSeen - before, answered.size());
        }
        for (int i = 0; i < answered.size(); i++) {
            IommufdRandomLedger.Group g = answered.get(i);
            String code = codes.get(i) == IommufdFault.RESP_SUCCESS ? "SUCCESS" : "INVALID";
            if (g.answers != 1 || g.origin != ResponseOrigin.IOMMUFD
                    || !g.code.name().equals(code)) {
                fail("%s: %s should be answered %s by iommufd, is %s by %s", what, g, code, g.code, g.origin);
            }
        }
        note("%s -> %d", what, done);
    }

    /** One {cookie, code} answer: right, unknown cookie, bad code, or a repeat within the batch. */
    private int[] answer(TreeMap<Integer, IommufdRandomLedger.Group> table, List<int[]> earlier) {
        int kind = random.nextInt(100);
        if (kind < 60 && !table.isEmpty()) {
            List<Integer> cookies = new ArrayList<>(table.keySet());
            int cookie = cookies.get(random.nextInt(cookies.size()));
            table.remove(cookie);
            return new int[] {cookie, random.nextInt(5) < 3 ? IommufdFault.RESP_SUCCESS : IommufdFault.RESP_INVALID};
        }
        if (kind < 75 && !earlier.isEmpty()) {
            return new int[] {earlier.get(random.nextInt(earlier.size()))[0], IommufdFault.RESP_SUCCESS};
        }
        if (kind < 88) {
            int[] codes = {2, 3, -1, 0x10};
            int cookie = table.isEmpty() ? 1 + random.nextInt(4) : table.firstKey();
            count("answers with a bad code", 1);
            return new int[] {cookie, codes[random.nextInt(codes.length)]};
        }
        int[] unknown = {0, 1 + random.nextInt(8), 100 + random.nextInt(100), -7};
        count("answers with an unknown cookie", 1);
        return new int[] {unknown[random.nextInt(unknown.length)], IommufdFault.RESP_INVALID};
    }

    private static String describe(List<int[]> answers, boolean oddLength) {
        StringBuilder sb = new StringBuilder("[");
        answers.forEach(a -> sb.append(sb.length() > 1 ? " " : "").append(a[0]).append(':').append(a[1]));
        return sb.append(oddLength ? "]+4 bytes" : "]").toString();
    }

    /** Before answering SUCCESS user space maps most faulting pages of the window into the IOAS (pinned). */
    private void resolve(List<IommufdRandomLedger.Group> answered, List<Integer> codes) {
        for (int i = 0; i < answered.size(); i++) {
            if (codes.get(i) != IommufdFault.RESP_SUCCESS || random.nextInt(3) == 0 || model.ioasId == 0) {
                continue;
            }
            for (var f : answered.get(i).faults) {
                long page = (f.addr() - IOVA) / PAGE;
                if (f.addr() >= IOVA && page < WINDOW && !model.mapped(f.addr() & -PAGE, PAGE)) {
                    map((int) page, 1);
                }
            }
        }
    }

    // ---- objects ----

    private void bind(Device dev) {
        boolean bound = model.devIds.containsKey(dev);
        int id = model.nextId();
        Integer got = call("bind " + dev.name(), bound ? Errno.EINVAL : null, () -> ctx.bindDevice(dev));
        if (got != null) {
            if (got != id) {
                fail("bind %s got id %d, expected the lowest free %d", dev.name(), got, id);
            }
            model.devIds.put(dev, got);
            note("bind %s -> dev %d", dev.name(), got);
        }
    }

    /** A device bound again gets a RID attachment, sometimes PASIDs too. */
    private void reattach(Device dev) {
        if (model.devIds.containsKey(dev)) {
            attach(dev, NO_PASID, faultCapableHwpt());
            if (random.nextBoolean()) {
                attach(dev, 1 + random.nextInt(3), faultCapableHwpt());
            }
        }
    }

    private void faultAlloc() {
        int id = model.nextId();
        Iommufd.FaultAlloc a = call("FAULT_QUEUE_ALLOC", null, () -> ctx.faultQueueAlloc(0));
        if (a == null) {
            return;
        }
        if (a.faultId() != id) {
            fail("FAULT_QUEUE_ALLOC got id %d, expected %d", a.faultId(), id);
        }
        IommufdRandomLedger.File f = new IommufdRandomLedger.File(a.faultId(), a.file());
        files.add(f);
        model.faults.put(a.faultId(), new IommufdRandomModel.Fault(f));
        note("fault object %d", a.faultId());
    }

    private void hwptAlloc(boolean faultCapable) {
        List<Device> bound = new ArrayList<>(model.devIds.keySet());
        if (bound.isEmpty()) {
            return;
        }
        Device dev = bound.get(random.nextInt(bound.size()));
        boolean pasid = random.nextInt(8) != 0;
        List<Integer> faultIds = new ArrayList<>(model.faults.keySet());
        int faultId = faultIds.isEmpty() || random.nextInt(20) == 0 ? 99 : faultIds.get(random.nextInt(faultIds.size()));
        int flags = (pasid ? Iommufd.HWPT_ALLOC_PASID : 0) | (faultCapable ? Iommufd.HWPT_FAULT_ID_VALID : 0);
        Errno expected = model.ioasId == 0 ? Errno.EINVAL : faultCapable && !model.faults.containsKey(faultId)
                ? Errno.ENOENT : null;
        int id = model.nextId();
        int ioas = model.ioasId;
        String what = String.format("HWPT_ALLOC(dev %d, flags %#x, fault %d)", model.devIds.get(dev), flags,
                faultCapable ? faultId : 0);
        Integer got = call(what, expected, () -> ctx.hwptAlloc(model.devIds.get(dev), ioas, flags,
                faultCapable ? faultId : 0, null));
        if (got == null) {
            return;
        }
        if (got != id) {
            fail("%s got id %d, expected %d", what, got, id);
        }
        IommufdRandomModel.Fault fault = faultCapable ? model.faults.get(faultId) : null;
        IommufdRandomModel.Hwpt h = new IommufdRandomModel.Hwpt(got, ctx.hwptDomain(got), fault, pasid, false);
        model.hwpts.put(got, h);
        if (fault != null) {
            ledger.reportsTo(h.domain, fault.ledger);
        }
        note("%s -> %s", what, h);
    }

    /** A page-table id to attach: mostly a HWPT, sometimes the IOAS (an automatic HWPT) or no page table. */
    private int anyPt() {
        int kind = random.nextInt(20);
        if (kind == 0) {
            return model.faults.isEmpty() ? 77 : model.faults.keySet().iterator().next();
        }
        if (kind == 1) {
            return 50 + random.nextInt(10);
        }
        if (kind < 4 || model.hwpts.isEmpty()) {
            return model.ioasId;
        }
        List<Integer> ids = new ArrayList<>(model.hwpts.keySet());
        return ids.get(random.nextInt(ids.size()));
    }

    private void attach(Device dev, int pasid, int ptId) {
        Integer devId = model.devIds.get(dev);
        IommufdRandomModel.Hwpt hwpt = model.hwpts.get(ptId);
        boolean ioas = ptId == model.ioasId && ptId > 0;
        IommufdRandomModel.Hwpt auto = ioas && devId != null ? model.autoCandidate(dev, pasid, false) : null;
        Errno expected;
        if (devId == null) {
            expected = Errno.ENOENT;
        } else if (hwpt == null && !ioas) {
            expected = model.faults.containsKey(ptId) ? Errno.EINVAL : Errno.ENOENT;
        } else if (model.attachments(dev).containsKey(pasid)) {
            expected = Errno.EINVAL;
        } else if (hwpt != null) {
            expected = model.compat(dev, pasid, hwpt);
        } else {
            expected = auto != null ? null : newAutoCompat(dev, pasid);
        }
        int newId = model.nextId();
        String what = String.format("attach(%s, PASID %d, pt %d)", dev.name(), pasid, ptId);
        Integer got = call(what, expected, () -> ctx.attach(devId == null ? 40 + random.nextInt(9) : devId, pasid,
                ptId));
        count(expected == null ? "attaches" : "attaches refused " + expected, 1);
        if (got != null) {
            linked(dev, pasid, what, got, hwpt != null ? hwpt : auto, newId);
        }
    }

    /** Whether a new automatic HWPT (ALLOC_PASID only at a PASID) may go to {@code pasid} of {@code dev}. */
    private Errno newAutoCompat(Device dev, int pasid) {
        IommufdRandomModel.Hwpt fresh = new IommufdRandomModel.Hwpt(0, null, null, pasid != NO_PASID, true);
        return model.compat(dev, pasid, fresh);
    }

    /** Records the attachment {@code got} at {@code pasid}; an automatic HWPT is the predicted one or a new id. */
    private void linked(Device dev, int pasid, String what, int got, IommufdRandomModel.Hwpt known, int newId) {
        IommufdRandomModel.Hwpt h = known;
        if (h == null) {
            if (got != newId) {
                fail("%s: the new automatic HWPT got id %d, expected %d", what, got, newId);
            }
            h = new IommufdRandomModel.Hwpt(got, ctx.hwptDomain(got), null, pasid != NO_PASID, true);
        } else if (h.id != got) {
            fail("%s attached HWPT %d, expected %d", what, got, h.id);
        }
        AttachHandle handle = core.attachHandleGet(dev.group(), pasid, null);
        if (handle.domain() != h.domain) {
            fail("%s: the handle at PASID %d names another domain", what, pasid);
        }
        model.link(dev, pasid, h, handle);
        ledger.attached(handle, model.devIds.get(dev));
        note("%s -> %s", what, h);
    }

    private void detach() {
        List<Map.Entry<Device, Integer>> pairs = model.attachedPairs();
        if (pairs.isEmpty() || random.nextInt(8) == 0) {
            detach(randomDevice(), randomPasid());
        } else {
            Map.Entry<Device, Integer> e = pairs.get(random.nextInt(pairs.size()));
            detach(e.getKey(), e.getValue());
        }
    }

    private void detach(Device dev, int pasid) {
        Integer devId = model.devIds.get(dev);
        IommufdRandomModel.Attach old = model.attachments(dev).get(pasid);
        Errno expected = devId == null ? Errno.ENOENT : old == null ? Errno.EINVAL : null;
        List<IommufdRandomLedger.Group> before = ledger.unanswered(dev);
        String what = String.format("detach(%s, PASID %d)", dev.name(), pasid);
        boolean ok = run(what, expected, () -> ctx.detach(devId == null ? 60 : devId, pasid));
        count(expected == null ? "detaches" : "detaches refused " + expected, 1);
        if (ok) {
            model.unlink(dev, pasid);
            checkFiles(true);
            checkLeft(what, dev, before, old.handle(), true);
        }
    }

    private void replace() {
        List<Map.Entry<Device, Integer>> pairs = model.attachedPairs();
        if (pairs.isEmpty()) {
            return;
        }
        Map.Entry<Device, Integer> e = pairs.get(random.nextInt(pairs.size()));
        Device dev = e.getKey();
        int pasid = random.nextInt(10) == 0 ? 7 : e.getValue();
        IommufdRandomModel.Attach old = model.attachments(dev).get(pasid);
        int ptId = random.nextBoolean() ? otherFaultHwpt(old) : random.nextBoolean() ? faultCapableHwpt() : anyPt();
        IommufdRandomModel.Hwpt hwpt = model.hwpts.get(ptId);
        boolean ioas = ptId == model.ioasId && ptId > 0;
        IommufdRandomModel.Hwpt auto = ioas ? model.autoCandidate(dev, pasid, true) : null;
        Errno expected;
        if (hwpt == null && !ioas) {
            expected = model.faults.containsKey(ptId) ? Errno.EINVAL : Errno.ENOENT;
        } else if (old == null) {
            expected = Errno.EINVAL;
        } else if (hwpt != null) {
            expected = old.hwpt() == hwpt ? null : model.compat(dev, pasid, hwpt);
        } else {
            expected = auto != null ? null : newAutoCompat(dev, pasid);
        }
        int newId = model.nextId();
        List<IommufdRandomLedger.Group> before = ledger.unanswered(dev);
        String what = String.format("replace(%s, PASID %d, pt %d)", dev.name(), pasid, ptId);
        Integer got = call(what, expected, () -> ctx.replace(model.devIds.get(dev), pasid, ptId));
        count(expected == null ? "replaces" : "replaces refused " + expected, 1);
        if (got == null) {
            return;
        }
        IommufdRandomModel.Hwpt target = hwpt != null ? hwpt : auto;
        if (target == old.hwpt()) {
            if (got != target.id) {
                fail("%s returned %d, expected %d", what, got, target.id);
            }
            checkUntouched(what, before);
            note("%s -> unchanged", what);
            return;
        }
        model.unlink(dev, pasid);
        linked(dev, pasid, what, got, target, newId);
        checkFiles(true);
        IommufdRandomModel.Hwpt now = model.attachments(dev).get(pasid).hwpt();
        boolean answersOld = mode == Iommufd.ReplaceAutoResponse.INTENDED
                || now.fault == old.hwpt().fault;
        int left = checkLeft(what, dev, before, old.handle(), answersOld);
        if (left > 0 && random.nextBoolean()) {
            // the groups the 2025 replace missed wait in the old fault object until it goes
            model.faults.entrySet().stream().filter(f -> f.getValue() == old.hwpt().fault).findFirst()
                    .ifPresent(f -> retireFault(f.getKey()));
        }
    }

    /**
     * After a detach or replace: the old attachment's groups are answered when {@code answersOld}; if the device left
     * its iopf queue (its last fault-capable attachment went) all of its groups are; the others' groups are not.
     */
    private int checkLeft(String what, Device dev, List<IommufdRandomLedger.Group> before, AttachHandle old,
                          boolean answersOld) {
        boolean offQueue = iopf.queueOf(dev) == null;
        int answered = 0;
        int kept = 0;
        for (IommufdRandomLedger.Group g : before) {
            boolean mustGo = offQueue || answersOld && g.handle == old;
            if (mustGo && !g.answered()) {
                fail("%s left %s unanswered", what, g);
            } else if (!mustGo && g.answered() && g.origin != ResponseOrigin.IOMMUFD) {
                fail("%s answered %s of another attachment (%s)", what, g, g.origin.label());
            }
            answered += g.answered() ? 1 : 0;
            kept += !g.answered() && g.handle == old ? 1 : 0;
        }
        count("groups answered by detach/replace", answered);
        if (kept > 0) {
            count("groups left by a LEGACY_2025 replace", kept);
        }
        note("%s -> %d group(s) answered%s", what, answered, offQueue ? ", device off its iopf queue" : "");
        return kept;
    }

    private void checkUntouched(String what, List<IommufdRandomLedger.Group> before) {
        for (IommufdRandomLedger.Group g : before) {
            if (g.answered()) {
                fail("%s answered %s", what, g);
            }
        }
    }

    private void destroy() {
        List<Integer> ids = new ArrayList<>(model.hwpts.keySet());
        ids.addAll(model.faults.keySet());
        ids.addAll(model.devIds.values());
        if (model.ioasId > 0) {
            ids.add(model.ioasId);
        }
        destroy(ids.isEmpty() || random.nextInt(8) == 0 ? 1 + random.nextInt(20) : ids.get(random.nextInt(ids.size())));
    }

    private void destroy(int id) {
        Errno expected = model.destroyOutcome(id);
        IommufdRandomModel.Fault fault = model.faults.get(id);
        int answersBefore = ledger.answersSeen;
        List<IommufdRandomLedger.Group> held = fault == null ? List.of()
                : ledger.groups.stream().filter(g -> g.file == fault.ledger && !g.answered()).toList();
        String what = "IOMMU_DESTROY " + id;
        boolean ok = run(what, expected, () -> ctx.destroy(id));
        count(expected == null ? "destroys" : "destroys refused " + expected, 1);
        if (!ok) {
            if (ledger.answersSeen != answersBefore) {
                fail("%s was refused but answered %d group(s)", what, ledger.answersSeen - answersBefore);
            }
            return;
        }
        if (model.hwpts.remove(id) == null && model.faults.remove(id) == null) {
            model.ioasId = 0;
        }
        checkFiles(true);
        for (IommufdRandomLedger.Group g : held) {
            if (!g.answered() || g.origin != ResponseOrigin.AUTO_RESPONSE) {
                fail("%s left %s %s", what, g, g.answered() ? "answered by " + g.origin.label() : "unanswered");
            }
        }
        if (fault != null) {
            count("fault objects destroyed", 1);
            count("groups answered by fault destroy", held.size());
        }
        note("%s -> destroyed%s", what, held.isEmpty() ? "" : ", " + held.size() + " group(s) answered");
    }

    private void faultClose() {
        List<Integer> ids = new ArrayList<>(model.faults.keySet());
        if (ids.isEmpty()) {
            return;
        }
        faultClose(ids.get(random.nextInt(ids.size())));
    }

    private void faultClose(int id) {
        IommufdRandomModel.Fault f = model.faults.get(id);
        int before = ledger.answersSeen;
        boolean ok = run("close(fault fd " + id + ")", f.open ? null : Errno.EBADF, f.ledger.file::close);
        count(f.open ? "fault fds closed" : "fault fd closes refused EBADF", 1);
        if (ok) {
            f.open = false;
            if (ledger.answersSeen != before) {
                fail("closing the fault fd %d answered %d group(s)", id, ledger.answersSeen - before);
            }
            note("close(fault fd %d)", id);
        }
    }

    /**
     * User space retires a fault object: closes its fd, detaches and destroys the HWPTs allocated with it, then
     * destroys it, so iommufd_fault_destroy() answers what it still holds (after a LEGACY_2025 replace).
     */
    private void retireFault() {
        List<Integer> ids = new ArrayList<>(model.faults.keySet());
        if (ids.isEmpty()) {
            return;
        }
        retireFault(ids.get(random.nextInt(ids.size())));
    }

    private void retireFault(int id) {
        IommufdRandomModel.Fault f = model.faults.get(id);
        note("retire fault object %d", id);
        if (f.open) {
            faultClose(id);
        }
        for (IommufdRandomModel.Hwpt h : List.copyOf(model.hwpts.values())) {
            if (h.fault != f) {
                continue;
            }
            for (Map.Entry<Device, Integer> e : model.attachedPairs()) {
                if (model.attachments(e.getKey()).get(e.getValue()).hwpt() == h) {
                    detach(e.getKey(), e.getValue());
                }
            }
            destroy(h.id);
        }
        destroy(id);
    }

    /** Device removal: unbind from the context (VFIO), or the lab's remove-device (iopf_queue_remove_device()). */
    private void removeDevice() {
        Device dev = randomDevice();
        Integer devId = model.devIds.get(dev);
        int how = random.nextInt(6);
        if (devId != null && how < 5) {
            List<IommufdRandomLedger.Group> before = ledger.unanswered(dev);
            boolean ok = run("unbind " + dev.name(), null, () -> ctx.unbindDevice(devId));
            count("unbinds", 1);
            if (ok) {
                model.unbind(dev);
                checkFiles(true);
                answeredAll("unbind " + dev.name(), dev, before);
                note("unbind %s -> %d group(s) answered", dev.name(), before.size());
            }
            if (how < 3) {
                return;
            }
        }
        List<IommufdRandomLedger.Group> before = ledger.unanswered(dev);
        boolean onQueue = iopf.queueOf(dev) != null;
        note("remove-device %s%s", dev.name(), onQueue ? "" : " (on no iopf queue: WARN)");
        iopf.queueRemoveDevice(iopf.queueOf(dev), dev);
        count(onQueue ? "remove-device" : "remove-device off queue", 1);
        answeredAll("remove-device " + dev.name(), dev, before);
    }

    /** After a device removal: every group the device had is answered and none is pending. */
    private void answeredAll(String what, Device dev, List<IommufdRandomLedger.Group> before) {
        for (IommufdRandomLedger.Group g : before) {
            if (!g.answered()) {
                fail("%s left %s unanswered", what, g);
            }
        }
        if (iopf.pendingGroups(dev) != 0) {
            fail("%s left %d pending group(s)", what, iopf.pendingGroups(dev));
        }
        count("groups answered by device removal", before.size());
    }

    private void closeContext() {
        boolean ok = run("close iommufd", null, ctx::close);
        count("context closes", 1);
        if (!ok) {
            return;
        }
        model.closed = true;
        checkFiles(true);
        for (IommufdRandomLedger.Group g : ledger.groups) {
            if (!g.answered()) {
                fail("closing the context left %s unanswered", g);
            }
        }
        for (IommufdRandomLedger.File f : files) {
            if (!f.deliver.isEmpty() || !f.response.isEmpty()) {
                fail("closing the context left groups in fault object %d", f.faultId);
            }
        }
        // every ioctl of a closed context is EBADF
        run("IOAS_ALLOC after close", Errno.EBADF, ctx::ioasAlloc);
    }

    private void ioasMapOrUnmap() {
        if (model.ioasId == 0) {
            return;
        }
        if (random.nextBoolean() && !model.areas.isEmpty()) {
            List<Long> starts = new ArrayList<>(model.areas.keySet());
            long iova = starts.get(random.nextInt(starts.size()));
            long length = model.areas.get(iova);
            boolean cut = length > PAGE && random.nextInt(4) == 0;
            long len = cut ? PAGE : length;
            Long got = call(String.format("IOAS_UNMAP %#x+%#x", iova, len), cut ? Errno.ENOENT : null,
                    () -> ctx.ioasUnmap(model.ioasId, iova, len));
            if (got != null) {
                if (got != length) {
                    fail("IOAS_UNMAP %#x returned %d, expected %d", iova, got, length);
                }
                model.areas.remove(iova);
                note("IOAS_UNMAP %#x+%#x", iova, len);
            }
            count("ioas unmaps", 1);
        } else {
            map(random.nextInt(WINDOW), 1 + random.nextInt(2));
        }
    }

    /** IOAS_MAP of window pages [page, page + pages) at their IOVA, pinned; EEXIST over an area. */
    private void map(int page, int pages) {
        int n = Math.min(pages, WINDOW - page);
        long iova = IOVA + page * PAGE;
        Errno expected = model.mapped(iova, n * PAGE) ? Errno.EEXIST : null;
        int flags = Iommufd.IOAS_MAP_FIXED_IOVA | Iommufd.IOAS_MAP_READABLE | Iommufd.IOAS_MAP_WRITEABLE;
        Long got = call(String.format("IOAS_MAP %#x+%#x", iova, n * PAGE), expected,
                () -> ctx.ioasMap(model.ioasId, mm, VA + page * PAGE, n * PAGE, iova, flags));
        if (got != null) {
            model.areas.put(iova, n * PAGE);
            count("ioas maps", 1);
        }
    }

    private int expectId(String what, Callable<Integer> body) {
        int id = model.nextId();
        Integer got = call(what, null, body);
        if (got != null && got != id) {
            fail("%s got id %d, expected %d", what, got, id);
        }
        return got == null ? 0 : got;
    }

    // ---- helpers ----

    private Device randomDevice() {
        return devices.get(random.nextInt(devices.size()));
    }

    /** Mostly PASIDs 1-3; sometimes the RID. */
    private int randomPasid() {
        return random.nextInt(6) == 0 ? NO_PASID : 1 + random.nextInt(3);
    }

    /** Whether {@code f}'s file is open: its fault object (ids are reused) is alive and the file not closed. */
    private boolean isOpen(IommufdRandomLedger.File f) {
        IommufdRandomModel.Fault fo = model.faults.get(f.faultId);
        return fo != null && fo.ledger == f && fo.open && !model.closed;
    }

    private IommufdRandomLedger.File randomFile() {
        return files.isEmpty() ? null : files.get(random.nextInt(files.size()));
    }

    private boolean run(String what, Errno expected, Runnable body) {
        return call(what, expected, () -> {
            body.run();
            return Boolean.TRUE;
        }) != null;
    }

    /** Runs an ioctl expecting {@code expected} (null: success); a different answer is a failure of the seed. */
    private <T> T call(String what, Errno expected, Callable<T> body) {
        T value;
        try {
            value = body.call();
        } catch (KernelException e) {
            if (e.errno() == Errno.ENODEV && where(e).contains("Iopf.queueFlushDev")) {
                throw new KnownBug(DRAIN_FLUSH_ENODEV, what + where(e));
            }
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
    private static String where(Exception e) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement el : e.getStackTrace()) {
            if (el.getClassName().startsWith("dev.iommulab") && !el.getClassName().contains("IommufdRandom")) {
                sb.append("\n    at ").append(el);
            }
        }
        return sb.toString();
    }

    private void count(String what, int n) {
        tally.merge(what, n, Integer::sum);
    }

    private void note(String format, Object... args) {
        log.append(String.format("%8dns  ", loop == null ? 0 : loop.now())).append(String.format(format, args))
                .append('\n');
    }

    private void fail(String format, Object... args) {
        String msg = String.format(format, args);
        failures.add(msg);
        note("FAIL %s", msg);
    }
}
