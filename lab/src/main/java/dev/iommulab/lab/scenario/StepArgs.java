package dev.iommulab.lab.scenario;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The step kinds of the file format: their argument keys and how each binds its arguments. */
final class StepArgs {

    /** Binds the arguments of one step kind; returns {@code null} when {@code f} reported a problem. */
    interface Binder {
        Step bind(Fields f, Long at, SourceLocation loc);
    }

    /** Argument keys (besides {@code at}) and binder of one step kind. */
    record Kind(List<String> keys, Binder binder) {
    }

    /** Step kinds by file key, in the order of the format's step table. */
    static final Map<String, Kind> KINDS = kinds();

    private StepArgs() {
    }

    private static Map<String, Kind> kinds() {
        Map<String, Kind> m = new LinkedHashMap<>();
        m.put("sva-bind", new Kind(List.of("device", "process"), (f, at, loc) -> bind(f, at, loc, true)));
        m.put("sva-unbind", new Kind(List.of("device", "process"), (f, at, loc) -> bind(f, at, loc, false)));
        m.put("attach", new Kind(List.of("device", "domain"), StepArgs::attach));
        m.put("map", new Kind(List.of("device", "iova", "size", "prot"), StepArgs::map));
        m.put("unmap", new Kind(List.of("device", "iova", "size"), StepArgs::unmap));
        m.put("dma", new Kind(List.of("device", "addr", "size", "access", "process", "privileged", "pasid"),
                StepArgs::dma));
        m.put("page-request", new Kind(List.of("device", "grpid", "addr", "access", "last", "pasid", "process",
                "privileged", "pages"), StepArgs::pageRequest));
        m.put("stop-marker", new Kind(List.of("device", "pasid", "process"), StepArgs::stopMarker));
        m.put("pasid-stop", new Kind(List.of("device", "pasid", "process"), StepArgs::pasidStop));
        m.put("mmap", new Kind(List.of("process", "start", "size", "prot", "backing"), StepArgs::mmap));
        m.put("munmap", new Kind(List.of("process", "start", "size"), StepArgs::munmap));
        m.put("mprotect", new Kind(List.of("process", "start", "size", "prot"), StepArgs::mprotect));
        m.put("exit-process", new Kind(List.of("process"), StepArgs::exitProcess));
        m.put("fail-allocations", new Kind(List.of("site", "count"), StepArgs::failAllocations));
        m.put("flr", new Kind(List.of("device"), StepArgs::flr));
        m.put("remove-device", new Kind(List.of("device"), StepArgs::removeDevice));
        m.put("run", new Kind(List.of("for"), StepArgs::run));
        VfioStepArgs.register(m);
        return Collections.unmodifiableMap(m);
    }

    private static Step bind(Fields f, Long at, SourceLocation loc, boolean bind) {
        String device = f.device("device");
        String process = f.process("process");
        if (!f.ok()) {
            return null;
        }
        return bind ? new SvaBind(device, process, at, loc) : new SvaUnbind(device, process, at, loc);
    }

    private static Step attach(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String domain = f.choice("domain", Attach.DOMAINS);
        return f.ok() ? new Attach(device, domain, at, loc) : null;
    }

    private static Step map(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Long iova = f.number("iova");
        Long size = f.positive("size");
        String prot = f.prot("prot");
        return f.ok() ? new MapStep(device, iova, size, prot, at, loc) : null;
    }

    private static Step unmap(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Long iova = f.number("iova");
        Long size = f.positive("size");
        return f.ok() ? new UnmapStep(device, iova, size, at, loc) : null;
    }

    private static Step dma(Fields f, Long at, SourceLocation loc) {
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

    private static Step pageRequest(Fields f, Long at, SourceLocation loc) {
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

    private static Step stopMarker(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        String process = f.process("process", null);
        pasidOrProcess(f, "stop-marker");
        return f.ok() ? new StopMarker(device, pasid, process, at, loc) : null;
    }

    private static Step pasidStop(Fields f, Long at, SourceLocation loc) {
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

    private static Step mmap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        String prot = f.prot("prot", "rw");
        String backing = f.choice("backing", Mmap.BACKINGS, "anonymous");
        return f.ok() ? new Mmap(process, start, size, prot, backing, at, loc) : null;
    }

    private static Step munmap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        return f.ok() ? new Munmap(process, start, size, at, loc) : null;
    }

    private static Step mprotect(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        String prot = f.prot("prot");
        return f.ok() ? new Mprotect(process, start, size, prot, at, loc) : null;
    }

    private static Step exitProcess(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        return f.ok() ? new ExitProcess(process, at, loc) : null;
    }

    private static Step failAllocations(Fields f, Long at, SourceLocation loc) {
        String site = f.text("site");
        Integer count = f.integer("count", 1, Integer.MAX_VALUE);
        return f.ok() ? new FailAllocations(site, count, at, loc) : null;
    }

    private static Step flr(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        return f.ok() ? new Flr(device, at, loc) : null;
    }

    private static Step removeDevice(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        return f.ok() ? new RemoveDevice(device, at, loc) : null;
    }

    private static Step run(Fields f, Long at, SourceLocation loc) {
        Long forNs = f.time("for");
        return f.ok() ? new Run(forNs, at, loc) : null;
    }
}
