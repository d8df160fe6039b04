package dev.iommulab.lab.scenario;

/** The argument binders of the step kinds outside the user-space view (entries of {@link StepKinds}). */
final class StepArgs {

    private StepArgs() {
    }

    static SvaBind svaBind(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String process = f.process("process");
        return f.ok() ? new SvaBind(device, process, at, loc) : null;
    }

    static SvaUnbind svaUnbind(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String process = f.process("process");
        return f.ok() ? new SvaUnbind(device, process, at, loc) : null;
    }

    static Attach attach(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String domain = f.choice("domain", Attach.DOMAINS);
        return f.ok() ? new Attach(device, domain, at, loc) : null;
    }

    static MapStep map(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Long iova = f.number("iova");
        Long size = f.positive("size");
        String prot = f.prot("prot");
        return f.ok() ? new MapStep(device, iova, size, prot, at, loc) : null;
    }

    static UnmapStep unmap(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Long iova = f.number("iova");
        Long size = f.positive("size");
        return f.ok() ? new UnmapStep(device, iova, size, at, loc) : null;
    }

    static Dma dma(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String process = f.process("process", null);
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        if (f.has("pasid") && f.has("process")) {
            f.error(f.valuePos("process"), "process", "dma takes pasid or process, not both");
        }
        Long addr = process != null || pasid != null ? f.number("addr") : f.number("addr", null);
        Long size = f.positive("size");
        String access = f.choice("access", Dma.ACCESSES);
        Boolean privileged = f.bool("privileged", false);
        return f.ok() ? new Dma(device, addr, size, access, process, privileged, pasid, at, loc) : null;
    }

    static PageRequest pageRequest(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer grpid = f.integer("grpid", 0, Checks.MAX_GRPID);
        Long addr = f.number("addr");
        String access = f.choice("access", Dma.ACCESSES);
        Boolean last = f.bool("last");
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        String process = f.process("process", null);
        if (f.has("pasid") && f.has("process")) {
            f.error(f.valuePos("process"), "process", "page-request takes pasid or process, not both");
        }
        Boolean privileged = f.bool("privileged", false);
        Integer pages = f.integer("pages", 1, PageRequest.MAX_PAGES, 1);
        return f.ok() ? new PageRequest(device, grpid, addr, access, last, pasid, process, privileged, pages, at, loc)
                : null;
    }

    static StopMarker stopMarker(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        String process = f.process("process", null);
        pasidOrProcess(f, "stop-marker");
        return f.ok() ? new StopMarker(device, pasid, process, at, loc) : null;
    }

    static PasidStop pasidStop(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        String process = f.process("process", null);
        pasidOrProcess(f, "pasid-stop");
        return f.ok() ? new PasidStop(device, pasid, process, at, loc) : null;
    }

    private static void pasidOrProcess(Fields f, String kind) {
        if (f.has("pasid") && f.has("process")) {
            f.error(f.valuePos("process"), "process", kind + " takes pasid or process, not both");
        } else if (!f.has("pasid") && !f.has("process")) {
            f.error(f.pos(), "", kind + " needs pasid or process");
        }
    }

    static Mmap mmap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        String prot = f.prot("prot", "rw");
        String backing = f.choice("backing", Mmap.BACKINGS, "anonymous");
        return f.ok() ? new Mmap(process, start, size, prot, backing, at, loc) : null;
    }

    static Munmap munmap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        return f.ok() ? new Munmap(process, start, size, at, loc) : null;
    }

    static Mprotect mprotect(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        String prot = f.prot("prot");
        return f.ok() ? new Mprotect(process, start, size, prot, at, loc) : null;
    }

    static ExitProcess exitProcess(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        return f.ok() ? new ExitProcess(process, at, loc) : null;
    }

    static FailAllocations failAllocations(Fields f, Long at, SourceLocation loc) {
        String site = f.text("site");
        Integer count = f.integer("count", 1, Integer.MAX_VALUE);
        return f.ok() ? new FailAllocations(site, count, at, loc) : null;
    }

    static Flr flr(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        return f.ok() ? new Flr(device, at, loc) : null;
    }

    static RemoveDevice removeDevice(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        return f.ok() ? new RemoveDevice(device, at, loc) : null;
    }

    static Run run(Fields f, Long at, SourceLocation loc) {
        Long forNs = f.time("for");
        return f.ok() ? new Run(forNs, at, loc) : null;
    }
}
