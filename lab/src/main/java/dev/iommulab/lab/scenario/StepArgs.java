package dev.iommulab.lab.scenario;

import java.util.function.Function;

/**
 * The argument binders of the step kinds outside the user-space view (entries of {@link StepKinds}), and the binders
 * of the step shapes several kinds share ({@link #device}, {@link #process}, {@link #deviceAndProcess}).
 */
final class StepArgs {

    /** The record of a step kind whose one argument is a declared name. */
    @FunctionalInterface
    interface Named<S extends Step> {
        S make(String name, Long at, SourceLocation loc);
    }

    /** The record of a step kind whose arguments are a declared device and a declared process. */
    @FunctionalInterface
    interface DeviceAndProcess<S extends Step> {
        S make(String device, String process, Long at, SourceLocation loc);
    }

    /** The record of a step kind of a device and a PASID, given as a number or as a process. */
    @FunctionalInterface
    interface DevicePasid<S extends Step> {
        S make(String device, Integer pasid, String process, Long at, SourceLocation loc);
    }

    /** The record of an unmap step: the owner of the address space, the range. */
    @FunctionalInterface
    interface Unmap<S extends Step> {
        S make(String owner, long iova, long size, Long at, SourceLocation loc);
    }

    private StepArgs() {
    }

    /** The binder of a step kind whose one argument is {@code device}, a declared device. */
    static <S extends Step> StepKinds.Binder<S> device(Named<S> step) {
        return (f, at, loc) -> {
            String device = f.device("device");
            return f.ok() ? step.make(device, at, loc) : null;
        };
    }

    /** The binder of a step kind whose one argument is {@code process}, a declared process. */
    static <S extends Step> StepKinds.Binder<S> process(Named<S> step) {
        return (f, at, loc) -> {
            String process = f.process("process");
            return f.ok() ? step.make(process, at, loc) : null;
        };
    }

    /** The binder of a step kind of a declared {@code device} and a declared {@code process}. */
    static <S extends Step> StepKinds.Binder<S> deviceAndProcess(DeviceAndProcess<S> step) {
        return (f, at, loc) -> {
            String device = f.device("device");
            String process = f.process("process");
            return f.ok() ? step.make(device, process, at, loc) : null;
        };
    }

    static FaultHandlerStep faultHandler(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String handler = f.choice("handler", FaultHandlerStep.HANDLERS);
        return f.ok() ? new FaultHandlerStep(device, handler, at, loc) : null;
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

    /**
     * The binder of an unmap of {@code [iova, iova + size)} from the address space of {@code owner}: a declared device
     * (its RID domain) or a declared process (its IOAS).
     */
    static <S extends Step> StepKinds.Binder<S> unmap(Function<Fields, String> owner, Unmap<S> step) {
        return (f, at, loc) -> {
            String name = owner.apply(f);
            Long iova = f.number("iova");
            Long size = f.positive("size");
            return f.ok() ? step.make(name, iova, size, at, loc) : null;
        };
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
        if (addr != null && size != null) {
            end(f, addr, size);
        }
        String access = f.choice("access", Dma.ACCESSES);
        Boolean privileged = f.bool("privileged", false);
        Long descriptor = f.number("descriptor", null);
        if (descriptor != null && addr == null) {
            f.error(f.valuePos("descriptor"), "descriptor", "a descriptor fetch needs addr (not the DMA API form)");
        } else if (descriptor != null && (descriptor & 0xfff) + Dma.DESCRIPTOR_BYTES > 4096) {
            f.error(f.valuePos("descriptor"), "descriptor", String.format("the %d-byte descriptor at %#x crosses a"
                    + " 4 KiB page", Dma.DESCRIPTOR_BYTES, descriptor));
        }
        return f.ok() ? new Dma(device, addr, size, access, process, privileged, pasid, descriptor, at, loc) : null;
    }

    /** Reports at {@code size} a range {@code [start, start + size)} that ends beyond {@code Long.MAX_VALUE}. */
    static void end(Fields f, long start, long size) {
        try {
            Checks.end(start, size, "size");
        } catch (IllegalArgumentException e) {
            f.error(f.valuePos("size"), "size", e.getMessage());
        }
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

    /**
     * The binder of a step kind {@code kind} of a declared {@code device} and one of {@code pasid} and
     * {@code process} (whose PASID it means).
     */
    static <S extends Step> StepKinds.Binder<S> pasidOrProcess(String kind, DevicePasid<S> step) {
        return (f, at, loc) -> {
            String device = f.device("device");
            Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
            String process = f.process("process", null);
            if (f.has("pasid") && f.has("process")) {
                f.error(f.valuePos("process"), "process", kind + " takes pasid or process, not both");
            } else if (!f.has("pasid") && !f.has("process")) {
                f.error(f.pos(), "", kind + " needs pasid or process");
            }
            return f.ok() ? step.make(device, pasid, process, at, loc) : null;
        };
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

    static FailAllocations failAllocations(Fields f, Long at, SourceLocation loc) {
        String site = f.text("site");
        Integer count = f.integer("count", 1, Integer.MAX_VALUE);
        return f.ok() ? new FailAllocations(site, count, at, loc) : null;
    }

    static Run run(Fields f, Long at, SourceLocation loc) {
        Long forNs = f.time("for");
        return f.ok() ? new Run(forNs, at, loc) : null;
    }
}
