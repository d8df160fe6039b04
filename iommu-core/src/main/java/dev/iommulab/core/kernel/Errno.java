package dev.iommulab.core.kernel;

/** The kernel error numbers the simulated kernel calls fail with (include/uapi/asm-generic/errno*.h). */
public enum Errno {
    ENOENT(2), EFAULT(14), EBUSY(16), ENODEV(19), EINVAL(22), ENOSPC(28), ESPIPE(29), ENOMEM(12),
    EOPNOTSUPP(95), EOVERFLOW(75), EPERM(1), EEXIST(17),
    /** No such process: a process that already exited. */
    ESRCH(3),
    /** Bad file descriptor: a file that was closed. */
    EBADF(9),
    /** Function not implemented: report_iommu_fault() with no fault handler installed. */
    ENOSYS(38),
    /** I/O error: a virtio-iommu request the device failed (IOERR, DEVERR). */
    EIO(5),
    /** Result out of range: a virtio-iommu request answered RANGE. */
    ERANGE(34);

    private final int number;

    Errno(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** The kernel's negative return value, e.g. -22 for EINVAL. */
    public int negative() {
        return -number;
    }

    /** The errno whose negative value is {@code ret}, for readable logs; null for 0 or unknown values. */
    public static Errno fromReturn(int ret) {
        for (Errno e : values()) {
            if (e.number == -ret) {
                return e;
            }
        }
        return null;
    }
}
