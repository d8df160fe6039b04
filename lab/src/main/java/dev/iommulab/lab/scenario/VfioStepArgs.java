package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Map;

/** The iommufd / VFIO step kinds of the file format (docs/scenario-format.md "The user-space view"). */
final class VfioStepArgs {

    /** {@code cookie: last-read}: the cookie of the last group read from the fault file. */
    static final String LAST_READ = "last-read";

    private VfioStepArgs() {
    }

    static void register(Map<String, StepArgs.Kind> m) {
        m.put("vfio-bind", new StepArgs.Kind(List.of("device", "process"), VfioStepArgs::bind));
        m.put("vfio-unbind", new StepArgs.Kind(List.of("device"), VfioStepArgs::unbind));
        m.put("vfio-attach", new StepArgs.Kind(List.of("device", "pasid", "fault"), (f, at, loc) -> attach(f, at,
                loc, false)));
        m.put("vfio-replace", new StepArgs.Kind(List.of("device", "pasid", "fault"), (f, at, loc) -> attach(f, at,
                loc, true)));
        m.put("vfio-detach", new StepArgs.Kind(List.of("device", "pasid"), VfioStepArgs::detach));
        m.put("vfio-pasid-stop", new StepArgs.Kind(List.of("device", "pasid"), VfioStepArgs::pasidStop));
        m.put("ioas-map", new StepArgs.Kind(List.of("process", "iova", "addr", "size", "prot", "on-fault"),
                VfioStepArgs::ioasMap));
        m.put("ioas-unmap", new StepArgs.Kind(List.of("process", "iova", "size"), VfioStepArgs::ioasUnmap));
        m.put("fault-read", new StepArgs.Kind(List.of("process", "bytes"), VfioStepArgs::faultRead));
        m.put("fault-write", new StepArgs.Kind(List.of("process", "cookie", "code"), VfioStepArgs::faultWrite));
        m.put("fault-close", new StepArgs.Kind(List.of("process"), (f, at, loc) -> {
            String process = f.process("process");
            return f.ok() ? new FaultClose(process, at, loc) : null;
        }));
        m.put("iommufd-close", new StepArgs.Kind(List.of("process"), (f, at, loc) -> {
            String process = f.process("process");
            return f.ok() ? new IommufdClose(process, at, loc) : null;
        }));
    }

    private static Step bind(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        String process = f.process("process");
        return f.ok() ? new VfioBind(device, process, at, loc) : null;
    }

    private static Step unbind(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        return f.ok() ? new VfioUnbind(device, at, loc) : null;
    }

    private static Step attach(Fields f, Long at, SourceLocation loc, boolean replace) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID, null);
        Boolean fault = f.bool("fault", true);
        if (!f.ok()) {
            return null;
        }
        return replace ? new VfioReplace(device, pasid, fault, at, loc) : new VfioAttach(device, pasid, fault, at, loc);
    }

    private static Step detach(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID, null);
        return f.ok() ? new VfioDetach(device, pasid, at, loc) : null;
    }

    private static Step pasidStop(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID);
        return f.ok() ? new VfioPasidStop(device, pasid, at, loc) : null;
    }

    private static Step ioasMap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long iova = f.pageAligned("iova", false);
        Long addr = f.pageAligned("addr", false);
        Long size = f.pageAligned("size", true);
        String prot = f.choice("prot", IoasMap.PROTS);
        Boolean onFault = f.bool("on-fault", false);
        return f.ok() ? new IoasMap(process, iova, addr, size, prot, onFault, at, loc) : null;
    }

    private static Step ioasUnmap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long iova = f.number("iova");
        Long size = f.positive("size");
        return f.ok() ? new IoasUnmap(process, iova, size, at, loc) : null;
    }

    private static Step faultRead(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Integer bytes = f.integer("bytes", 0, Integer.MAX_VALUE);
        return f.ok() ? new FaultRead(process, bytes, at, loc) : null;
    }

    private static Step faultWrite(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        String cookieText = f.string("cookie", null);
        Long cookie = null;
        if (cookieText == null) {
            f.missing("cookie");
        } else if (!LAST_READ.equals(cookieText)) {
            cookie = u32(f, "cookie", cookieText, "a u32 or last-read");
        }
        String codeText = f.string("code", null);
        Long code = null;
        if (codeText == null) {
            f.missing("code");
        } else {
            code = FaultWrite.CODES.containsKey(codeText) ? FaultWrite.CODES.get(codeText)
                    : u32(f, "code", codeText, "SUCCESS, INVALID or a u32");
        }
        return f.ok() ? new FaultWrite(process, cookie, code, at, loc) : null;
    }

    private static Long u32(Fields f, String key, String text, String expected) {
        try {
            long value = Numbers.parseSize(text);
            if (value >= 0 && value <= FaultWrite.U32) {
                return value;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        f.error(f.valuePos(key), key, "expected " + expected + ", found '" + text + "'");
        return null;
    }
}
