//! `jobs::limit_malloc_arenas` checked on glibc's own report of its arenas: in a test binary of its
//! own, as the limit holds for the whole process.
#![cfg(all(feature = "backend", target_os = "linux", target_env = "gnu"))]

use std::sync::{Arc, Barrier};

/// The arenas glibc has made so far (`malloc_info` writes one `<heap nr=…>` element per arena).
#[allow(unsafe_code)]
fn arenas() -> usize {
    let mut buf: *mut libc::c_char = std::ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: open_memstream owns `buf` and `len` until fclose, which writes their final values;
    // the text is read once fclose has returned, then freed with free as its manual says.
    unsafe {
        let stream = libc::open_memstream(&mut buf, &mut len);
        assert!(!stream.is_null(), "open_memstream failed");
        assert_eq!(libc::malloc_info(0, stream), 0, "malloc_info failed");
        libc::fclose(stream);
        let text = String::from_utf8_lossy(std::slice::from_raw_parts(buf.cast::<u8>(), len)).into_owned();
        libc::free(buf.cast());
        text.matches("<heap nr=").count()
    }
}

#[test]
fn many_threads_allocate_from_no_more_arenas_than_the_limit() {
    lifeboat_domain::jobs::limit_malloc_arenas();
    // An operator's MALLOC_ARENA_MAX wins (glibc applies it itself); CI sets none.
    let limit = match std::env::var("MALLOC_ARENA_MAX") {
        Ok(v) => v.parse().unwrap(),
        Err(_) => lifeboat_domain::jobs::malloc_arena_limit(std::thread::available_parallelism().unwrap().get()),
    };
    // The test harness's threads took theirs before the limit was set (the server sets it before
    // it starts any thread); the limit stops glibc making more.
    let before = arenas();
    // Eight threads alive at once, each allocating: at glibc's default (eight arenas per CPU) each
    // would take an arena of its own.
    let threads = 8;
    let all_allocated = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let all_allocated = all_allocated.clone();
            std::thread::spawn(move || {
                let blocks: Vec<Vec<u8>> = (0..64).map(|j| vec![(i + j) as u8; 1024]).collect();
                all_allocated.wait();
                blocks.len()
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), 64);
    }
    let after = arenas();
    assert!(before >= 1, "malloc_info reported no arena");
    assert!(after <= before.max(limit), "{before} arenas before the threads, {after} after, for a limit of {limit}");
}

#[test]
fn the_limit_is_one_arena_per_cpu_and_at_least_two() {
    use lifeboat_domain::jobs::malloc_arena_limit;
    assert_eq!(malloc_arena_limit(1), 2);
    assert_eq!(malloc_arena_limit(2), 2);
    assert_eq!(malloc_arena_limit(16), 16);
}
