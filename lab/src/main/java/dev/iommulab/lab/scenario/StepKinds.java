package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The step kinds of the file format, one entry each: the key written in the file, the record it binds to, its
 * argument keys (besides {@code at}), its argument binder and the {@link StepHandlers} method that performs it. The
 * loader's accepted keys, the executor's dispatch and {@link Step#kind()} all come from this table, in the order of
 * the steps list of docs/scenario-format.md.
 */
public final class StepKinds {

    /** Binds the arguments of one step kind; returns {@code null} when {@code f} reported a problem. */
    @FunctionalInterface
    interface Binder<S extends Step> {
        S bind(Fields f, Long at, SourceLocation loc);
    }

    /** Performs one step kind with {@code handlers}. */
    @FunctionalInterface
    interface Handler<S extends Step> {
        void perform(StepHandlers handlers, S step);
    }

    /** One entry of the table. */
    record Kind<S extends Step>(String key, Class<S> type, List<String> argKeys, Binder<S> binder,
                                Handler<S> handler) {

        void perform(StepHandlers handlers, Step step) {
            handler.perform(handlers, type.cast(step));
        }
    }

    /** The table, in the order of the format's steps list. */
    static final List<Kind<?>> TABLE = List.of(
            kind("sva-bind", SvaBind.class, List.of("device", "process"), StepArgs.deviceAndProcess(SvaBind::new),
                    (h, s) -> h.sva().bind(s)),
            kind("sva-unbind", SvaUnbind.class, List.of("device", "process"), StepArgs.deviceAndProcess(SvaUnbind::new),
                    (h, s) -> h.sva().unbind(s)),
            kind("attach", Attach.class, List.of("device", "domain"), StepArgs::attach, (h, s) -> h.iommu().attach(s)),
            kind("map", MapStep.class, List.of("device", "iova", "size", "prot"), StepArgs::map,
                    (h, s) -> h.iommu().map(s)),
            kind("unmap", UnmapStep.class, List.of("device", "iova", "size"),
                    StepArgs.unmap(f -> f.device("device"), UnmapStep::new),
                    (h, s) -> h.iommu().unmap(s)),
            kind("dma", Dma.class, List.of("device", "addr", "size", "access", "process", "privileged", "pasid",
                    "descriptor"),
                    StepArgs::dma, (h, s) -> h.device().dma(s)),
            kind("page-request", PageRequest.class, List.of("device", "grpid", "addr", "access", "last", "pasid",
                    "process", "privileged", "pages"), StepArgs::pageRequest, (h, s) -> h.device().pageRequest(s)),
            kind("stop-marker", StopMarker.class, List.of("device", "pasid", "process"),
                    StepArgs.pasidOrProcess("stop-marker", StopMarker::new),
                    (h, s) -> h.device().stopMarker(s)),
            kind("pasid-stop", PasidStop.class, List.of("device", "pasid", "process"),
                    StepArgs.pasidOrProcess("pasid-stop", PasidStop::new),
                    (h, s) -> h.sva().pasidStop(s)),
            kind("mmap", Mmap.class, List.of("process", "start", "size", "prot", "backing"), StepArgs::mmap,
                    (h, s) -> h.mm().mmap(s)),
            kind("munmap", Munmap.class, List.of("process", "start", "size"), StepArgs::munmap,
                    (h, s) -> h.mm().munmap(s)),
            kind("mprotect", Mprotect.class, List.of("process", "start", "size", "prot"), StepArgs::mprotect,
                    (h, s) -> h.mm().mprotect(s)),
            kind("exit-process", ExitProcess.class, List.of("process"), StepArgs.process(ExitProcess::new),
                    (h, s) -> h.mm().exitProcess(s)),
            kind("fail-allocations", FailAllocations.class, List.of("site", "count"), StepArgs::failAllocations,
                    (h, s) -> h.iommu().failAllocations(s)),
            kind("flr", Flr.class, List.of("device"), StepArgs.device(Flr::new), (h, s) -> h.device().flr(s)),
            kind("remove-device", RemoveDevice.class, List.of("device"), StepArgs.device(RemoveDevice::new),
                    (h, s) -> h.iommu().removeDevice(s)),
            kind("fault-handler", FaultHandlerStep.class, List.of("device", "handler"), StepArgs::faultHandler,
                    (h, s) -> h.iommu().faultHandler(s)),
            kind("run", Run.class, List.of("for"), StepArgs::run, StepHandlers::run),
            kind("vfio-bind", VfioBind.class, List.of("device", "process"), StepArgs.deviceAndProcess(VfioBind::new),
                    (h, s) -> h.userspace().vfioBind(s)),
            kind("vfio-unbind", VfioUnbind.class, List.of("device"), StepArgs.device(VfioUnbind::new),
                    (h, s) -> h.userspace().vfioUnbind(s)),
            kind("vfio-attach", VfioAttach.class, List.of("device", "pasid", "fault"),
                    VfioStepArgs.newHwpt(VfioAttach::new),
                    (h, s) -> h.userspace().vfioAttach(s)),
            kind("vfio-replace", VfioReplace.class, List.of("device", "pasid", "fault"),
                    VfioStepArgs.newHwpt(VfioReplace::new),
                    (h, s) -> h.userspace().vfioReplace(s)),
            kind("vfio-detach", VfioDetach.class, List.of("device", "pasid"), VfioStepArgs::detach,
                    (h, s) -> h.userspace().vfioDetach(s)),
            kind("vfio-pasid-stop", VfioPasidStop.class, List.of("device", "pasid"), VfioStepArgs::pasidStop,
                    (h, s) -> h.userspace().vfioPasidStop(s)),
            kind("ioas-map", IoasMap.class, List.of("process", "iova", "addr", "size", "prot", "on-fault"),
                    VfioStepArgs::ioasMap, (h, s) -> h.userspace().ioasMap(s)),
            kind("ioas-unmap", IoasUnmap.class, List.of("process", "iova", "size"),
                    StepArgs.unmap(f -> f.process("process"), IoasUnmap::new),
                    (h, s) -> h.userspace().ioasUnmap(s)),
            kind("fault-read", FaultRead.class, List.of("process", "bytes"), VfioStepArgs::faultRead,
                    (h, s) -> h.userspace().faultRead(s)),
            kind("fault-write", FaultWrite.class, List.of("process", "cookie", "code"), VfioStepArgs::faultWrite,
                    (h, s) -> h.userspace().faultWrite(s)),
            kind("fault-close", FaultClose.class, List.of("process"), StepArgs.process(FaultClose::new),
                    (h, s) -> h.userspace().faultClose(s)),
            kind("iommufd-close", IommufdClose.class, List.of("process"), StepArgs.process(IommufdClose::new),
                    (h, s) -> h.userspace().iommufdClose(s)));

    private static final Map<String, Kind<?>> BY_KEY = TABLE.stream()
            .collect(Collectors.<Kind<?>, String, Kind<?>>toUnmodifiableMap(Kind::key, k -> k));
    private static final Map<Class<?>, Kind<?>> BY_TYPE = TABLE.stream()
            .collect(Collectors.<Kind<?>, Class<?>, Kind<?>>toUnmodifiableMap(Kind::type, k -> k));
    private static final List<String> KEYS = TABLE.stream().map(Kind::key).toList();

    private StepKinds() {
    }

    /** The keys of every step kind, in the order of the format's steps list. */
    public static List<String> keys() {
        return KEYS;
    }

    /** Performs {@code step} with the method of {@code handlers} its entry names. */
    public static void perform(Step step, StepHandlers handlers) {
        entry(step).perform(handlers, step);
    }

    /** The file key of {@code step}'s kind. */
    static String keyOf(Step step) {
        return entry(step).key();
    }

    /** The entry of the kind written {@code key}, or {@code null}. */
    static Kind<?> byKey(String key) {
        return BY_KEY.get(key);
    }

    private static Kind<?> entry(Step step) {
        Kind<?> kind = BY_TYPE.get(step.getClass());
        if (kind == null) {
            throw new IllegalStateException(step.getClass().getSimpleName() + " has no entry in the step table");
        }
        return kind;
    }

    private static <S extends Step> Kind<S> kind(String key, Class<S> type, List<String> argKeys, Binder<S> binder,
                                                 Handler<S> handler) {
        return new Kind<>(key, type, argKeys, binder, handler);
    }
}
