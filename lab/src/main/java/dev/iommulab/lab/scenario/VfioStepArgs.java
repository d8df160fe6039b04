package dev.iommulab.lab.scenario;

/** The argument binders of the iommufd / VFIO step kinds (docs/scenario-format.md "The user-space view"). */
final class VfioStepArgs {

    /** {@code cookie: last-read}: the cookie of the last group read from the fault file. */
    static final String LAST_READ = "last-read";

    private VfioStepArgs() {
    }

    /** The record of {@code vfio-attach} or {@code vfio-replace}: a new HWPT at the RID or a PASID. */
    @FunctionalInterface
    interface NewHwpt<S extends Step> {
        S make(String device, Integer pasid, boolean fault, Long at, SourceLocation loc);
    }

    /** The binder of {@code vfio-attach} and {@code vfio-replace}: {@code device}, {@code pasid}, {@code fault}. */
    static <S extends Step> StepKinds.Binder<S> newHwpt(NewHwpt<S> step) {
        return (f, at, loc) -> {
            String device = f.device("device");
            Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID, null);
            Boolean fault = f.bool("fault", true);
            return f.ok() ? step.make(device, pasid, fault, at, loc) : null;
        };
    }

    static VfioDetach detach(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID, null);
        return f.ok() ? new VfioDetach(device, pasid, at, loc) : null;
    }

    static VfioPasidStop pasidStop(Fields f, Long at, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 1, Checks.MAX_PASID);
        return f.ok() ? new VfioPasidStop(device, pasid, at, loc) : null;
    }

    static IoasMap ioasMap(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Long iova = f.pageAligned("iova", false);
        Long addr = f.pageAligned("addr", false);
        Long size = f.pageAligned("size", true);
        String prot = f.choice("prot", IoasMap.PROTS);
        Boolean onFault = f.bool("on-fault", false);
        if (size != null && Boolean.FALSE.equals(onFault) && size > IoasMap.MAX_PINNED_SIZE) {
            f.error(f.valuePos("size"), "size", IoasMap.pinnedTooLarge(size));
        }
        return f.ok() ? new IoasMap(process, iova, addr, size, prot, onFault, at, loc) : null;
    }

    static FaultRead faultRead(Fields f, Long at, SourceLocation loc) {
        String process = f.process("process");
        Integer bytes = f.integer("bytes", 0, Integer.MAX_VALUE);
        return f.ok() ? new FaultRead(process, bytes, at, loc) : null;
    }

    static FaultWrite faultWrite(Fields f, Long at, SourceLocation loc) {
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
